package vmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/rshelper"
	"github.com/lvsbox/lvsbox/tools/vmlab"
)

// The data-plane lab: one director guest ("lb") carrying NAT, DR, TUN,
// persistent and IPv6 NAT services, and a second guest ("tun1") as the TUN real
// server (the host kernel has no ipip module, so it cannot be a namespace).
//
//	front 192.0.2.0/24, 2001:db8:1::/64
//	  client .10 ::10 | dr1 .21, dr2 .22 (VIP .101 on lo) | lb eth0 .2 ::2 + VIPs | tun1 eth1 .31
//	back 198.51.100.0/24, 2001:db8:2::/64
//	  lb eth1 .1 ::1 (e1000) | rs1 .11 ::11, rs2 .12 ::12 | tun1 eth0 .21 (tunnel endpoint 203.0.113.21 on lo)
//
// The director reaches the TUN real server 203.0.113.21 only by a route via
// 198.51.100.21; tun1 answers clients directly on the front segment from the VIP
// on tunl0. lb's eth0 and tun1's eth0 are virtio-net, their eth1 are e1000.
const (
	dpVIPNAT    = "192.0.2.100"
	dpVIPDR     = "192.0.2.101"
	dpVIPTUN    = "192.0.2.102"
	dpVIPSticky = "192.0.2.103"
	dpVIP6      = "2001:db8:1::100"
	dpClient6   = "2001:db8:1::10"
	dpDR1       = "192.0.2.21"
	dpDR2       = "192.0.2.22"
	dpTUNFront  = "192.0.2.31"
	dpTUNBack   = "198.51.100.21"
	dpTUNRS     = "203.0.113.21"
	dpRS16      = "2001:db8:2::11"
	dpRS26      = "2001:db8:2::12"
	dpGW6       = "2001:db8:2::1"
	dpDrainTime = 15 * time.Second
	// dpTUNPort: tun1's own lvsboxd holds port 80 (status page) on every address.
	dpTUNPort = 8080

	// dpConfDir holds the configuration variants in the guest (extra initramfs).
	dpConfDir = "/etc/lvsbox-test"
)

// dpVariant is a change of the lab's configuration: the web service's scheduler,
// a real server of web drained (admin_state) or removed.
type dpVariant struct {
	scheduler string // default wrr
	drain     string // "rs1" or "rs2"
	remove    string // "rs1" or "rs2"
}

// file is the variant's file name in dpConfDir.
func (v dpVariant) file() string {
	name := v.scheduler
	if name == "" {
		name = "base"
	}
	if v.drain != "" {
		name += "-drain-" + v.drain
	}
	if v.remove != "" {
		name += "-remove-" + v.remove
	}
	return name + ".json"
}

// dpVariants are every configuration the tests apply.
var dpVariants = []dpVariant{
	{}, {scheduler: "rr"},
	{scheduler: "rr", drain: "rs1"}, {scheduler: "rr", drain: "rs2"},
	{scheduler: "rr", remove: "rs1"}, {scheduler: "rr", remove: "rs2"},
}

// dpConfig is the director's configuration (docs/config-reference.md); the
// zero variant is the seed.
func dpConfig(v dpVariant) map[string]any {
	sched := v.scheduler
	if sched == "" {
		sched = "wrr"
	}
	var webReals []any
	for _, rs := range []struct {
		name, ip string
		weight   int
	}{{"rs1", rs1IP, 3}, {"rs2", rs2IP, 1}} {
		if v.remove == rs.name {
			continue
		}
		r := map[string]any{"address": rs.ip, "port": 80, "weight": rs.weight}
		if v.drain == rs.name {
			r["admin_state"] = "drain"
		}
		webReals = append(webReals, r)
	}
	reals := func(ips ...string) []any {
		var out []any
		for _, ip := range ips {
			out = append(out, map[string]any{"address": ip, "port": 80})
		}
		return out
	}
	return map[string]any{
		"system": map[string]any{"hostname": "lvsbox"},
		"interfaces": []any{
			map[string]any{"name": "eth0", "addresses": []string{
				"192.0.2.2/24", dpVIPNAT + "/32", dpVIPDR + "/32", dpVIPTUN + "/32", dpVIPSticky + "/32",
				"2001:db8:1::2/64", dpVIP6 + "/128"}},
			// e1000: the data-interface defaults (GRO/LRO off) plus GSO off.
			map[string]any{"name": "eth1", "addresses": []string{backGW + "/24", dpGW6 + "/64"},
				"offload": map[string]any{"gso": false}},
		},
		"routes": []any{map[string]any{"destination": dpTUNRS + "/32", "gateway": dpTUNBack}},
		"ipvs":   map[string]any{"drain_time": dpDrainTime.String()},
		"virtual_services": []any{
			map[string]any{"name": "web", "protocol": "tcp", "address": dpVIPNAT, "port": 80,
				"scheduler": sched, "forwarding": "nat", "real_servers": webReals},
			map[string]any{"name": "dr", "protocol": "tcp", "address": dpVIPDR, "port": 80,
				"scheduler": "rr", "forwarding": "dr", "real_servers": reals(dpDR1, dpDR2)},
			map[string]any{"name": "tun", "protocol": "tcp", "address": dpVIPTUN, "port": dpTUNPort,
				"scheduler": "rr", "forwarding": "tun", "real_servers": []any{map[string]any{"address": dpTUNRS}}},
			map[string]any{"name": "sticky", "protocol": "tcp", "address": dpVIPSticky, "port": 80,
				"scheduler": "rr", "forwarding": "nat", "persistence": map[string]any{"timeout": "300s"},
				"real_servers": reals(rs1IP, rs2IP)},
			map[string]any{"name": "web6", "protocol": "tcp", "address": dpVIP6, "port": 80,
				"scheduler": "rr", "forwarding": "nat", "real_servers": reals(dpRS16, dpRS26)},
		},
	}
}

func dpConfigJSON(v dpVariant) ([]byte, error) {
	return json.MarshalIndent(dpConfig(v), "", "  ")
}

// dpLab is the booted data-plane lab.
type dpLab struct {
	lab    *vmlab.Lab
	lb     *vmlab.Guest
	tun    *vmlab.Guest
	client *vmlab.Host
	hosts  map[string]*vmlab.Host
	labsrv string
}

// dpImage is the image plus what the tests need in the guests: labsrv (the TUN
// real server's HTTP server), Debian's ipvsadm and ethtool with their shared
// libraries, and the configuration variants in dpConfDir.
func dpImage(t *testing.T, img vmlab.Image, labsrv string) vmlab.Image {
	t.Helper()
	vmlab.NeedTools(t, "ldd")
	files := map[string]string{"/bbin/labsrv": labsrv}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, bin := range []string{ipvsadmPath, ethtoolPath} {
		_, err := os.Stat(bin)
		vmlab.Need(t, err == nil, "needs Debian's %s on the host (apt-get install %s)", bin, filepath.Base(bin))
		libs, err := vmlab.SharedLibraries(ctx, bin)
		if err != nil {
			t.Fatal(err)
		}
		for g, h := range libs {
			files[g] = h
		}
		files[bin] = bin
	}
	dir := t.TempDir()
	for _, v := range dpVariants {
		b, err := dpConfigJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, v.file())
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files[dpConfDir+"/"+v.file()] = p
	}
	out, err := vmlab.ExtraInitramfs(img, dir, files)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const ethtoolPath = "/usr/sbin/ethtool"

func newDPLab(t *testing.T) *dpLab {
	t.Helper()
	base := vmlab.NeedImage(t)
	d := &dpLab{labsrv: labsrvBin(t), hosts: map[string]*vmlab.Host{}}
	img := dpImage(t, base, d.labsrv)
	seed, err := dpConfigJSON(dpVariant{})
	if err != nil {
		t.Fatal(err)
	}
	d.lab = vmlab.NewTestLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()

	// Both guests boot in parallel while the namespaces are set up.
	start := time.Now()
	d.lb, err = d.lab.StartGuest(ctx, vmlab.GuestConfig{Name: "lb", Image: img, Seed: seed,
		NICs: []vmlab.NIC{{Segment: "front"}, {Segment: "back", Model: "e1000"}}})
	if err != nil {
		t.Fatal(err)
	}
	d.tun, err = d.lab.StartGuest(ctx, vmlab.GuestConfig{Name: "tun1", Image: img,
		NICs: []vmlab.NIC{{Segment: "back"}, {Segment: "front", Model: "e1000"}}})
	if err != nil {
		t.Fatal(err)
	}

	hosts := []struct {
		cfg   vmlab.HostConfig
		addr6 string
		gw6   string
	}{
		{vmlab.HostConfig{Name: "client", Segment: "front", Addrs: []string{clientIP}}, dpClient6 + "/64", ""},
		{vmlab.HostConfig{Name: "rs1", Segment: "back", Addrs: []string{rs1IP + "/24"}, Gateway: backGW}, dpRS16 + "/64", dpGW6},
		{vmlab.HostConfig{Name: "rs2", Segment: "back", Addrs: []string{rs2IP + "/24"}, Gateway: backGW}, dpRS26 + "/64", dpGW6},
		{vmlab.HostConfig{Name: "dr1", Segment: "front", Addrs: []string{dpDR1 + "/24"}}, "", ""},
		{vmlab.HostConfig{Name: "dr2", Segment: "front", Addrs: []string{dpDR2 + "/24"}}, "", ""},
	}
	for _, hc := range hosts {
		h, err := d.lab.AddHost(ctx, hc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		d.hosts[hc.cfg.Name] = h
		if hc.addr6 != "" { // no DAD: the address is usable at once
			if _, err := h.Exec(ctx, "ip", "addr", "add", hc.addr6, "dev", "eth0", "nodad"); err != nil {
				t.Fatal(err)
			}
		}
		if hc.gw6 != "" {
			if _, err := h.Exec(ctx, "ip", "-6", "route", "add", "default", "via", hc.gw6); err != nil {
				t.Fatal(err)
			}
		}
	}
	d.client = d.hosts["client"]
	d.setupDR(t, ctx)
	for _, name := range []string{"rs1", "rs2", "dr1", "dr2"} {
		p, err := d.hosts[name].Start(d.labsrv, "serve", "-name", name, "-listen", ":80")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Out.Wait(ctx, regexp.MustCompile(`listening`)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	for _, g := range []*vmlab.Guest{d.lb, d.tun} {
		if _, err := g.WaitConsole(ctx, readyRE); err != nil {
			t.Fatalf("boot: %v", err)
		}
		if err := g.Shell.WaitReady(ctx, 2*time.Second); err != nil {
			t.Fatalf("boot: rescue shell on the console: %v", err)
		}
		t.Logf("guest %s: %q and shell after %v", g.Name, readyRE, time.Since(start).Round(time.Millisecond))
	}
	d.setupTUN(t, ctx)
	return d
}

// setupDR runs lvsbox's own real-server script (appliance/rshelper) in dr1 and
// dr2: the VIP on lo, arp_ignore=1 and arp_announce=2.
func (d *dpLab) setupDR(t *testing.T, ctx context.Context) {
	t.Helper()
	scripts, err := rshelper.Scripts(rshelper.Box{Name: "lb"}, rshelper.Service{
		Name: "dr", Protocol: "tcp", Port: 80, VIPs: []netip.Addr{netip.MustParseAddr(dpVIPDR)},
		Forwarding: rshelper.DR,
		RealServers: []rshelper.RealServer{
			{Address: netip.MustParseAddr(dpDR1)}, {Address: netip.MustParseAddr(dpDR2)}},
	})
	if err != nil || len(scripts) != 1 {
		t.Fatalf("rshelper: %d scripts, %v", len(scripts), err)
	}
	path := filepath.Join(d.lab.Dir, scripts[0].FileName)
	if err := os.WriteFile(path, []byte(scripts[0].Text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dr1", "dr2"} {
		if out, err := d.hosts[name].Exec(ctx, "env", "IFACE=eth0", "sh", path); err != nil {
			t.Fatalf("%s: %s: %v\n%s", name, scripts[0].FileName, err, out)
		}
	}
}

// setupTUN configures tun1 as the seeds describe a TUN real server (what
// rshelper's TUN script does, typed into the rescue shell: the guest has no
// grep or sed): its addresses, the VIP on tunl0, arp_ignore=1, arp_announce=2,
// rp_filter=0 on tunl0 and all; then starts labsrv on dpTUNPort.
func (d *dpLab) setupTUN(t *testing.T, ctx context.Context) {
	t.Helper()
	cmds := []string{
		"ip link set eth0 up", "ip addr add " + dpTUNBack + "/24 dev eth0",
		"ip addr add " + dpTUNRS + "/32 dev lo",
		"ip link set eth1 up", "ip addr add " + dpTUNFront + "/24 dev eth1",
	}
	for _, dev := range []string{"all", "lo", "eth0", "eth1"} {
		cmds = append(cmds,
			"echo 1 > /proc/sys/net/ipv4/conf/"+dev+"/arp_ignore",
			"echo 2 > /proc/sys/net/ipv4/conf/"+dev+"/arp_announce")
	}
	cmds = append(cmds,
		"echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter",
		"echo 0 > /proc/sys/net/ipv4/conf/tunl0/rp_filter",
		"ip link set tunl0 up", "ip addr add "+dpVIPTUN+"/32 dev tunl0")
	for _, c := range cmds {
		if _, err := d.tun.Run(ctx, c); err != nil {
			t.Fatalf("tun1 setup: %v", err)
		}
	}
	d.tun.Console.Skip()
	if err := d.tun.Shell.Send(fmt.Sprintf("/bbin/labsrv serve -name tun1 -listen :%d &", dpTUNPort)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.tun.WaitConsole(ctx, regexp.MustCompile(`tun1 listening`)); err != nil {
		t.Fatalf("tun1: labsrv: %v", err)
	}
	if err := d.tun.Shell.WaitReady(ctx, 2*time.Second); err != nil {
		t.Fatalf("tun1: shell after starting labsrv: %v", err)
	}
}

// grun runs cmd in guest g's shell (fails the test on error), without CRs.
func grun(t *testing.T, g *vmlab.Guest, cmd string) string {
	t.Helper()
	return strings.ReplaceAll(run(t, g, cmd), "\r", "")
}

// get runs `labsrv get -n N URL` in the client and returns the answers per
// server and the failures.
func (d *dpLab) get(t *testing.T, n int, url string) (map[string]int, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*stepTimeout)
	defer cancel()
	out, _ := d.client.Exec(ctx, d.labsrv, "get", "-n", fmt.Sprint(n), "-timeout", "3s", url)
	return countAnswers(string(out))
}

// waitGet retries single requests until one succeeds (addresses still in DAD,
// neighbours unresolved) or the deadline passes.
func (d *dpLab) waitGet(t *testing.T, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var failed []string
	for time.Now().Before(deadline) {
		var counts map[string]int
		counts, failed = d.get(t, 1, url)
		if len(counts) > 0 {
			return
		}
	}
	t.Fatalf("no answer from %s within %v: %v", url, within, failed)
}

// table returns the director's IPVS table, service header -> real servers
// ("ADDR FWD WEIGHT"), from /proc/net/ip_vs.
func (d *dpLab) table(t *testing.T) map[string][]string {
	t.Helper()
	return parseServices(ipvsTable(grun(t, d.lb, "cat /proc/net/ip_vs")))
}

// waitTable polls the director's table until cond holds.
func (d *dpLab) waitTable(t *testing.T, within time.Duration, what string, cond func(map[string][]string) bool) map[string][]string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		tab := d.table(t)
		if cond(tab) {
			return tab
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; table:\n%s", what, within, formatTable(tab))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// apply commits a configuration variant through the local API (the lvsbox CLI
// on the console) and returns the new revision.
func (d *dpLab) apply(t *testing.T, v dpVariant) int {
	t.Helper()
	out := grun(t, d.lb, "/bbin/lvsbox config apply -f "+dpConfDir+"/"+v.file())
	m := regexp.MustCompile(`revision (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("lvsbox config apply %s: no revision in %q", v.file(), out)
	}
	var rev int
	fmt.Sscan(m[1], &rev)
	return rev
}

// waitApplied polls `lvsbox status` until revision rev is applied and returns
// the status text.
func (d *dpLab) waitApplied(t *testing.T, rev int, within time.Duration) string {
	t.Helper()
	re := regexp.MustCompile(fmt.Sprintf(`(?m)^applied:\s+revision %d\b`, rev))
	deadline := time.Now().Add(within)
	for {
		out := grun(t, d.lb, "/bbin/lvsbox status")
		if re.MatchString(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision %d not applied within %v:\n%s", rev, within, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// holdConn is a `labsrv hold` connection from the client.
type holdConn struct {
	p      *vmlab.Proc
	server string // the real server that answered first
}

var okRE = regexp.MustCompile(`(?m)^ok (\S+)$`)

// hold opens one kept-alive connection to url and waits for its first answer.
func (d *dpLab) hold(t *testing.T, url string) *holdConn {
	t.Helper()
	p, err := d.client.Start(d.labsrv, "hold", "-interval", "200ms", "-timeout", "3s", url)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	m, err := p.Out.Wait(ctx, okRE)
	if err != nil {
		t.Fatalf("hold %s: no first answer: %v\n%s", url, err, p.Out.String())
	}
	return &holdConn{p: p, server: m.Groups[1]}
}

// more waits for n further answers on the held connection, all from its server.
func (h *holdConn) more(t *testing.T, n int, when string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	h.p.Out.Skip()
	for range n {
		m, err := h.p.Out.Wait(ctx, regexp.MustCompile(`(?m)^(ok|err) (.*)$`))
		if err != nil {
			t.Fatalf("held connection %s: %v\n%s", when, err, h.p.Out.String())
		}
		if m.Groups[1] != "ok" || m.Groups[2] != h.server {
			t.Fatalf("held connection %s: %q (it was served by %s)\n%s", when, m.Text(), h.server, h.p.Out.String())
		}
	}
}

// stop ends the held connection and checks it never failed.
func (h *holdConn) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	_ = h.p.Signal(os.Interrupt)
	err := h.p.Wait(ctx)
	counts, failed := countAnswers(h.p.Out.String())
	if err != nil || len(failed) > 0 || len(counts) != 1 {
		t.Errorf("held connection: %v, answers %v, failures %v", err, counts, failed)
	}
}

// other is the web real server that is not name.
func other(name string) string {
	if name == "rs1" {
		return "rs2"
	}
	return "rs1"
}

// procSvc is a service line prefix of /proc/net/ip_vs ("TCP C0000264:0050").
func procSvc(ip string, port uint16) string {
	a := netip.MustParseAddr(ip)
	if a.Is4() {
		return "TCP " + procDest(ip, port)
	}
	return fmt.Sprintf("TCP %s", procDest6(a, port))
}

// procDest6 is an IPv6 address and port as /proc/net/ip_vs prints them (%pI6:
// eight groups of four hex digits).
func procDest6(a netip.Addr, port uint16) string {
	b := a.As16()
	var g []string
	for i := 0; i < 16; i += 2 {
		g = append(g, fmt.Sprintf("%02x%02x", b[i], b[i+1]))
	}
	return fmt.Sprintf("[%s]:%04X", strings.Join(g, ":"), port)
}

// procAny is procDest for either family.
func procAny(ip string, port uint16) string {
	a := netip.MustParseAddr(ip)
	if a.Is4() {
		return procDest(ip, port)
	}
	return procDest6(a, port)
}
