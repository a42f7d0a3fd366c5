package vrlab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Prefix starts every namespace name of this package.
const Prefix = "lvr"

var labSeq atomic.Int64

// Lab is one set of namespaces.
type Lab struct {
	Name string // lvr-<pid>-<n>
	Dir  string // logs, configs, captures
	sw   string // the switch namespace
	logf func(string, ...any)

	mu       sync.Mutex
	bridges  []string
	nodes    []*Node
	procs    []*Proc
	closed   bool
	nodeSeqs int
}

// Node is a namespace with links into the switch.
type Node struct {
	lab   *Lab
	Name  string // short name (a-z0-9)
	NS    string // namespace name
	idx   int
	Links map[string]*Link
}

// Link is one veth between a node and a bridge.
type Link struct {
	Node    string
	Dev     string // name inside the node
	Port    string // name in the switch namespace
	Segment string // bridge
	MAC     net.HardwareAddr
}

// LinkSpec asks for a link.
type LinkSpec struct {
	Dev     string   // default eth<i>
	Segment string   // bridge name (made on first use), default "lan"
	Addrs   []string // "192.0.2.1/24", ...
}

var nameRE = regexp.MustCompile(`^[a-z0-9]{1,8}$`)

// New makes the switch namespace. logf (may be nil) receives command
// failures and process output notes.
func New(dir string, logf func(string, ...any)) (*Lab, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	l := &Lab{Name: fmt.Sprintf("%s-%d-%d", Prefix, os.Getpid(), labSeq.Add(1)), Dir: dir, logf: logf}
	l.sw = l.Name + "-sw"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := run("ip", "netns", "add", l.sw); err != nil {
		return nil, err
	}
	if err := run("ip", "-n", l.sw, "link", "set", "lo", "up"); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("vrlab: %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func output(args ...string) (string, error) {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("vrlab: %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (l *Lab) bridge(seg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if slices.Contains(l.bridges, seg) {
		return nil
	}
	if err := run("ip", "-n", l.sw, "link", "add", seg, "type", "bridge", "forward_delay", "0", "stp_state", "0", "mcast_snooping", "0"); err != nil {
		return err
	}
	if err := run("ip", "-n", l.sw, "link", "set", seg, "up"); err != nil {
		return err
	}
	l.bridges = append(l.bridges, seg)
	return nil
}

// AddNode makes a node namespace with the given links (MAC
// 02:00:5e:<lab>:<node>:<link>); DAD is off so link-local addresses are
// usable at once.
func (l *Lab) AddNode(name string, links ...LinkSpec) (*Node, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("vrlab: node name %q: want [a-z0-9]{1,8}", name)
	}
	l.mu.Lock()
	l.nodeSeqs++
	n := &Node{lab: l, Name: name, NS: l.Name + "-" + name, idx: l.nodeSeqs, Links: map[string]*Link{}}
	l.nodes = append(l.nodes, n)
	l.mu.Unlock()
	if err := run("ip", "netns", "add", n.NS); err != nil {
		return nil, err
	}
	for _, s := range []string{"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
		"net.ipv6.conf.all.dad_transmits=0", "net.ipv6.conf.default.dad_transmits=0"} {
		if err := run("ip", "netns", "exec", n.NS, "sysctl", "-q", "-w", s); err != nil {
			return nil, err
		}
	}
	if err := run("ip", "-n", n.NS, "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	for i, s := range links {
		if s.Dev == "" {
			s.Dev = fmt.Sprintf("eth%d", i)
		}
		if s.Segment == "" {
			s.Segment = "lan"
		}
		if err := l.bridge(s.Segment); err != nil {
			return nil, err
		}
		lk := &Link{Node: name, Dev: s.Dev, Port: fmt.Sprintf("p%dl%d", n.idx, i), Segment: s.Segment,
			MAC: net.HardwareAddr{0x02, 0x00, 0x5e, byte(labSeq.Load()), byte(n.idx), byte(i)}}
		if err := run("ip", "-n", l.sw, "link", "add", lk.Port, "type", "veth", "peer", "name", lk.Dev,
			"netns", n.NS, "address", lk.MAC.String()); err != nil {
			return nil, err
		}
		if err := run("ip", "-n", l.sw, "link", "set", lk.Port, "master", s.Segment, "up"); err != nil {
			return nil, err
		}
		for _, a := range s.Addrs {
			if err := run("ip", "-n", n.NS, "addr", "add", a, "dev", lk.Dev); err != nil {
				return nil, err
			}
		}
		if err := run("ip", "-n", n.NS, "link", "set", lk.Dev, "up"); err != nil {
			return nil, err
		}
		n.Links[s.Dev] = lk
	}
	return n, nil
}

// Close stops every process (SIGKILL after a short SIGTERM grace) and
// deletes every namespace of the lab.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs, nodes := slices.Clone(l.procs), slices.Clone(l.nodes)
	l.mu.Unlock()
	for _, p := range procs {
		p.Stop(2 * time.Second)
	}
	var errs []error
	for _, n := range nodes {
		killNetnsPids(n.NS)
		if err := run("ip", "netns", "del", n.NS); err != nil && !strings.Contains(err.Error(), "No such file") {
			errs = append(errs, err)
		}
	}
	killNetnsPids(l.sw)
	if err := run("ip", "netns", "del", l.sw); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Exec runs a command inside the node and returns its combined output.
func (n *Node) Exec(args ...string) (string, error) {
	return output(append([]string{"ip", "netns", "exec", n.NS}, args...)...)
}

// Start starts a long-running command inside the node with its output in
// <lab dir>/<node>-<name>.log.
func (n *Node) Start(name string, args ...string) (*Proc, error) {
	l := n.lab
	logPath := filepath.Join(l.Dir, n.Name+"-"+name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.NS}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group: kill -9 reaches the command's children too
	// (keepalived's VRRP child) at the same instant.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("vrlab: start %s in %s: %w", args[0], n.Name, err)
	}
	p := &Proc{Name: n.Name + "-" + name, Log: logPath, cmd: cmd, f: f, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

// Link returns the node's link dev (panics if there is none: a test bug).
func (n *Node) Link(dev string) *Link {
	lk := n.Links[dev]
	if lk == nil {
		panic("vrlab: node " + n.Name + " has no link " + dev)
	}
	return lk
}

// Partition takes the node's link off its bridge (cut) or puts it back. The
// node keeps its carrier: only the traffic stops, like a broken switch path.
func (n *Node) Partition(dev string, cut bool) error {
	lk := n.Link(dev)
	if cut {
		return run("ip", "-n", n.lab.sw, "link", "set", lk.Port, "nomaster")
	}
	return run("ip", "-n", n.lab.sw, "link", "set", lk.Port, "master", lk.Segment)
}

// SetCarrier sets the switch side of the link down or up: the node sees
// its link lose or regain the carrier.
func (n *Node) SetCarrier(dev string, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return run("ip", "-n", n.lab.sw, "link", "set", n.Link(dev).Port, state)
}

// HasAddr reports whether addr (without length) is on dev in the node.
func (n *Node) HasAddr(dev, addr string) bool {
	out, err := output("ip", "-n", n.NS, "-o", "addr", "show", "dev", dev)
	if err != nil {
		return false
	}
	for _, f := range strings.Fields(out) {
		if a, _, _ := strings.Cut(f, "/"); a == addr {
			return true
		}
	}
	return false
}

// killNetnsPids SIGKILLs every process inside namespace ns.
func killNetnsPids(ns string) {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return
	}
	self := os.Getpid()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != self {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

var staleRE = regexp.MustCompile(`^` + Prefix + `-([0-9]+)-[0-9]+-[a-z0-9]+$`)

// Sweep deletes namespaces of labs whose process is gone.
func Sweep() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue
		}
		killNetnsPids(e.Name())
		_ = run("ip", "netns", "del", e.Name())
	}
}
