package vrlab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrfile"
)

// VRRPD is a running vrrpd.
type VRRPD struct {
	*Proc
	Sock string
	http *http.Client
}

// StartVRRPD writes cfg to the lab directory and starts bin (a built
// cmd/vrrpd) in the node with a status socket; extra flags are appended.
// It returns once the status socket answers.
func (n *Node) StartVRRPD(bin, name string, cfg vrfile.File, extra ...string) (*VRRPD, error) {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(n.lab.Dir, n.Name+"-"+name+".json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return nil, err
	}
	sock := filepath.Join(n.lab.Dir, n.Name+"-"+name+".sock")
	_ = os.Remove(sock)
	args := append([]string{bin, "-config", path, "-http", "unix:" + sock, "-log-level", "debug"}, extra...)
	p, err := n.Start(name, args...)
	if err != nil {
		return nil, err
	}
	d := &VRRPD{Proc: p, Sock: sock, http: &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", sock)
		}}}}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := d.Status(); err == nil {
			return d, nil
		}
		if p.Exited() || time.Now().After(end) {
			p.Stop(time.Second)
			return nil, fmt.Errorf("vrlab: vrrpd %s in %s did not come up:\n%s", name, n.Name, p.Output())
		}
	}
}

// Status is the daemon's snapshot.
func (d *VRRPD) Status() ([]node.InstanceStatus, error) {
	resp, err := d.http.Get("http://vrrpd/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var s []node.InstanceStatus
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, err
	}
	return s, nil
}

// Instance is the status of one instance (zero value if unknown or down).
func (d *VRRPD) Instance(name string) node.InstanceStatus {
	s, err := d.Status()
	if err != nil {
		return node.InstanceStatus{}
	}
	for _, i := range s {
		if i.Name == name {
			return i
		}
	}
	return node.InstanceStatus{}
}

// Metrics is the /metrics text.
func (d *VRRPD) Metrics() (string, error) {
	resp, err := d.http.Get("http://vrrpd/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// KAInstance is a keepalived vrrp_instance.
type KAInstance struct {
	Name      string
	Interface string
	Version   int // 2 or 3
	VRID      int
	Priority  int
	Interval  time.Duration
	VIPs      []string // with /len
	AuthPass  string   // v2 PASS
	NoPreempt bool
	Peers     []string // unicast peers
	SourceIP  string   // unicast_src_ip
}

// KAGlobal is keepalived's global_defs.
type KAGlobal struct {
	RouterID string
	// RTPriority sets vrrp_rt_priority (SCHED_RR for the VRRP process); 0:
	// not set. keepalived then also limits the CPU time it may use without
	// blocking (vrrp_rlimit_rttime, default 10 ms, SIGKILL beyond it, which a
	// busy shared host reaches at startup): it is raised to 2 s.
	RTPriority int
}

// KeepalivedConf renders a keepalived.conf (VRRP only, no scripts).
func KeepalivedConf(g KAGlobal, insts ...KAInstance) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  router_id %s\n  vrrp_garp_master_delay 5\n", g.RouterID)
	if g.RTPriority > 0 {
		fmt.Fprintf(&b, "  vrrp_rt_priority %d\n  vrrp_rlimit_rttime 2000000\n", g.RTPriority)
	}
	b.WriteString("}\n")
	for _, in := range insts {
		fmt.Fprintf(&b, "vrrp_instance %s {\n  state BACKUP\n  interface %s\n  virtual_router_id %d\n  priority %d\n  advert_int %g\n  version %d\n",
			in.Name, in.Interface, in.VRID, in.Priority, in.Interval.Seconds(), in.Version)
		if in.NoPreempt {
			b.WriteString("  nopreempt\n")
		}
		if in.AuthPass != "" {
			fmt.Fprintf(&b, "  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n", in.AuthPass)
		}
		if in.SourceIP != "" {
			fmt.Fprintf(&b, "  unicast_src_ip %s\n", in.SourceIP)
		}
		if len(in.Peers) > 0 {
			fmt.Fprintf(&b, "  unicast_peer {\n    %s\n  }\n", strings.Join(in.Peers, "\n    "))
		}
		fmt.Fprintf(&b, "  virtual_ipaddress {\n    %s\n  }\n}\n", strings.Join(in.VIPs, "\n    "))
	}
	return b.String()
}

// StartKeepalived runs keepalived (VRRP only, foreground, logging to its
// log file) in the node with the given config.
func (n *Node) StartKeepalived(name, conf string) (*Proc, error) {
	dir := n.lab.Dir
	path := filepath.Join(dir, n.Name+"-"+name+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	pid, vpid := filepath.Join(dir, n.Name+"-"+name+".pid"), filepath.Join(dir, n.Name+"-"+name+"-vrrp.pid")
	// After a kill -9 the pid files stay, and keepalived refuses to start
	// while their pids exist (the killed child may linger as a zombie).
	_ = os.Remove(pid)
	_ = os.Remove(vpid)
	return n.Start(name, "keepalived", "-n", "-l", "-D", "-P", "-f", path, "-p", pid, "-r", vpid)
}
