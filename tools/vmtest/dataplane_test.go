package vmtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/vmlab"
)

// TestDataplane carries real traffic through the daemon's IPVS configuration in
// one booted lab (dataplane_lab_test.go): NAT, DR and TUN services, persistence,
// IPv6 NAT, the NIC offloads read back, drift repair after a flush, a request loop
// across a daemon restart and a no-op reload, an in-place scheduler change, and
// draining by admin state and by removal with ipvs.drain_time, each keeping an
// established connection. The subtests run in order on the same guests.
func TestDataplane(t *testing.T) {
	d := newDPLab(t)
	natURL := "http://" + dpVIPNAT + "/"
	tunURL := fmt.Sprintf("http://%s:%d/", dpVIPTUN, dpTUNPort)

	t.Run("nat", func(t *testing.T) {
		counts, failed := d.get(t, 20, natURL)
		if len(failed) > 0 || counts["rs1"]+counts["rs2"] != 20 || counts["rs1"] == 0 || counts["rs2"] == 0 {
			t.Fatalf("20 requests to the NAT VIP: answers %v, failures %v\n%s", counts, failed, formatTable(d.table(t)))
		}
		_, reals, _ := findService(d.table(t), procSvc(dpVIPNAT, 80))
		for _, ip := range []string{rs1IP, rs2IP} {
			if fwd, _, ok := destOf(reals, procDest(ip, 80)); !ok || fwd != "Masq" {
				t.Errorf("%s: forwarding %q in %v, want Masq", ip, fwd, reals)
			}
		}
		t.Logf("NAT answers %v", counts)
	})

	t.Run("dr", func(t *testing.T) {
		counts, failed := d.get(t, 20, "http://"+dpVIPDR+"/")
		if len(failed) > 0 || counts["dr1"] != 10 || counts["dr2"] != 10 {
			t.Fatalf("20 requests to the DR VIP (rr): answers %v, want dr1:10 dr2:10; failures %v\n%s", counts, failed, formatTable(d.table(t)))
		}
		_, reals, _ := findService(d.table(t), procSvc(dpVIPDR, 80))
		for _, ip := range []string{dpDR1, dpDR2} {
			if fwd, _, ok := destOf(reals, procDest(ip, 80)); !ok || fwd != "Route" {
				t.Errorf("%s: forwarding %q in %v, want Route", ip, fwd, reals)
			}
		}
		// arp_ignore on the real servers: only the director answers ARP for the VIP.
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		out, err := d.client.Exec(ctx, "ip", "neigh", "show", dpVIPDR)
		if want := vmlab.GuestMAC(0, 0); err != nil || !strings.Contains(string(out), "lladdr "+want) {
			t.Errorf("client's neighbour entry for the DR VIP: %q (%v), want the director's %s", out, err, want)
		}
		t.Logf("DR answers %v", counts)
	})

	t.Run("tun", func(t *testing.T) {
		counts, failed := d.get(t, 10, tunURL)
		if len(failed) > 0 || counts["tun1"] != 10 {
			t.Logf("tun1: %s", grun(t, d.tun, "ip addr; cat /proc/net/dev"))
			t.Fatalf("10 requests to the TUN VIP: answers %v, failures %v\n%s", counts, failed, formatTable(d.table(t)))
		}
		_, reals, _ := findService(d.table(t), procSvc(dpVIPTUN, dpTUNPort))
		if fwd, _, ok := destOf(reals, procDest(dpTUNRS, dpTUNPort)); !ok || fwd != "Tunnel" {
			t.Errorf("%s: forwarding %q in %v, want Tunnel", dpTUNRS, fwd, reals)
		}
		// The packets reached tun1 encapsulated: tunl0 received them.
		if out := grun(t, d.tun, "cat /proc/net/dev"); !regexp.MustCompile(`(?m)^\s*tunl0:\s*[1-9]`).MatchString(out) {
			t.Errorf("tun1's tunl0 received nothing:\n%s", out)
		}
		t.Logf("TUN answers %v", counts)
	})

	t.Run("persistence", func(t *testing.T) {
		counts, failed := d.get(t, 20, "http://"+dpVIPSticky+"/")
		if len(failed) > 0 || len(counts) != 1 || counts["rs1"]+counts["rs2"] != 20 {
			t.Fatalf("20 requests from one client to the persistent rr service: answers %v (want all from one real server), failures %v\n%s",
				counts, failed, formatTable(d.table(t)))
		}
		h, _, ok := findService(d.table(t), procSvc(dpVIPSticky, 80))
		if !ok || !strings.Contains(h, " persistent ") {
			t.Errorf("/proc/net/ip_vs service line %q: want the persistent flag", h)
		}
		t.Logf("persistent answers %v (%s)", counts, h)
	})

	t.Run("ipv6_nat", func(t *testing.T) {
		url := "http://[" + dpVIP6 + "]/"
		d.waitGet(t, url, stepTimeout) // the director's addresses go through DAD
		counts, failed := d.get(t, 20, url)
		if len(failed) > 0 || counts["rs1"] != 10 || counts["rs2"] != 10 {
			t.Fatalf("20 requests to the IPv6 VIP (rr): answers %v, want rs1:10 rs2:10; failures %v\n%s", counts, failed, formatTable(d.table(t)))
		}
		_, reals, _ := findService(d.table(t), procSvc(dpVIP6, 80))
		if fwd, _, ok := destOf(reals, procAny(dpRS16, 80)); !ok || fwd != "Masq" {
			t.Errorf("%s: forwarding %q in %v, want Masq", dpRS16, fwd, reals)
		}
		t.Logf("IPv6 NAT answers %v", counts)
	})

	t.Run("offloads", func(t *testing.T) { testOffloads(t, d) })

	t.Run("drift_repair", func(t *testing.T) { testDriftRepair(t, d) })

	t.Run("restart_and_noop_reload", func(t *testing.T) { testRestartAndReload(t, d) })

	t.Run("scheduler_change_keeps_connection", func(t *testing.T) {
		h := d.hold(t, natURL)
		svc := procSvc(dpVIPNAT, 80)
		if hdr, _, _ := findService(d.table(t), svc); !strings.HasPrefix(hdr, svc+" wrr") {
			t.Fatalf("web before the change: %q, want wrr", hdr)
		}
		off := d.lb.Console.End()
		rev := d.apply(t, dpVariant{scheduler: "rr"})
		d.waitApplied(t, rev, stepTimeout)
		d.waitTable(t, stepTimeout, "web shows rr", func(tab map[string][]string) bool {
			hdr, _, ok := findService(tab, svc)
			return ok && strings.HasPrefix(hdr, svc+" rr")
		})
		h.more(t, 5, "after wrr -> rr")
		if log := d.lb.Console.Since(off); strings.Contains(log, "delete service tcp/"+dpVIPNAT+":80") {
			t.Errorf("the scheduler change deleted the service instead of editing it in place:\n%s", log)
		}
		h.stop(t)
		t.Logf("connection held to %s across wrr -> rr", h.server)
	})

	t.Run("drain_admin_state", func(t *testing.T) {
		h := d.hold(t, natURL)
		x := h.server
		rev := d.apply(t, dpVariant{scheduler: "rr", drain: x})
		d.waitApplied(t, rev, stepTimeout)
		d.waitTable(t, stepTimeout, x+" weight 0", func(tab map[string][]string) bool {
			_, reals, _ := findService(tab, procSvc(dpVIPNAT, 80))
			_, w, ok := destOf(reals, procDest(map[string]string{"rs1": rs1IP, "rs2": rs2IP}[x], 80))
			return ok && w == "0"
		})
		h.more(t, 5, "while "+x+" drains")
		counts, failed := d.get(t, 10, natURL)
		if len(failed) > 0 || counts[other(x)] != 10 {
			t.Errorf("new connections while %s drains: answers %v, failures %v; want all from %s", x, counts, failed, other(x))
		}
		h.more(t, 3, "after new connections went elsewhere")
		h.stop(t)
	})

	t.Run("remove_with_drain_time", func(t *testing.T) { testRemoveWithDrainTime(t, d) })
}

// testOffloads reads the NIC features back with Debian's ethtool: on the
// director as configured (data interfaces: GRO, LRO, hardware GRO off; GSO off
// on eth1 by configuration), and on tun1, which has no configuration, the
// drivers' defaults (the control, and the figures the issue asks for).
func testOffloads(t *testing.T, d *dpLab) {
	type nicRead struct {
		guest *vmlab.Guest
		dev   string
		model string
		fs    map[string]feature
	}
	var reads []*nicRead
	for _, g := range []*vmlab.Guest{d.lb, d.tun} {
		for _, dev := range []string{"eth0", "eth1"} {
			vendor := strings.TrimSpace(grun(t, g, "cat /sys/class/net/"+dev+"/device/vendor"))
			model := map[string]string{"0x1af4": "virtio-net", "0x8086": "e1000"}[lastLine(vendor)]
			wantModel := map[string]string{"eth0": "virtio-net", "eth1": "e1000"}[dev]
			if model != wantModel {
				t.Fatalf("%s %s: PCI vendor %q, want %s", g.Name, dev, vendor, wantModel)
			}
			out := grun(t, g, ethtoolPath+" -k "+dev)
			fs := parseEthtool(out)
			if len(fs) < 10 {
				t.Fatalf("%s: ethtool -k %s:\n%s", g.Name, dev, out)
			}
			reads = append(reads, &nicRead{g, dev, model, fs})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-5s %-5s %-11s %-14s %-14s %-14s %s\n", "guest", "dev", "model", "rx-gro", "rx-lro", "rx-gro-hw", "tx-generic-segmentation")
	for _, r := range reads {
		cell := func(name string) string {
			f, ok := r.fs[name]
			if !ok {
				return "absent"
			}
			return f.String()
		}
		fmt.Fprintf(&b, "%-5s %-5s %-11s %-14s %-14s %-14s %s\n", r.guest.Name, r.dev, r.model,
			cell("rx-gro"), cell("rx-lro"), cell("rx-gro-hw"), cell("tx-generic-segmentation"))
	}
	t.Logf("offloads (lb: as configured by lvsboxd; tun1: no configuration, driver defaults):\n%s", b.String())

	wantOff := func(r *nicRead, names ...string) {
		for _, n := range names {
			if f, ok := r.fs[n]; ok && f.On {
				t.Errorf("%s %s (%s): %s is %v, want off (as configured)", r.guest.Name, r.dev, r.model, n, f)
			}
		}
	}
	wantOff(reads[0], "rx-gro", "rx-lro", "rx-gro-hw")
	wantOff(reads[1], "rx-gro", "rx-lro", "rx-gro-hw", "tx-generic-segmentation")
	for _, r := range reads[2:] { // the control: lvsbox left these alone
		if !r.fs["rx-gro"].On {
			t.Errorf("%s %s (%s, not configured): rx-gro is off: the control does not show the driver default", r.guest.Name, r.dev, r.model)
		}
	}
	if !reads[3].fs["tx-generic-segmentation"].On {
		t.Errorf("tun1 eth1 (e1000, not configured): GSO is off by default, so the director's GSO-off proves nothing")
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// driftRE matches the daemon's report of a repaired drift.
var driftRE = regexp.MustCompile(`(?mi)^.*(drift.*repair|repair.*drift).*$`)

// testDriftRepair flushes the table with Debian's ipvsadm (-C) and edits a
// weight behind the daemon's back (-e); each time the table must come back as
// configured within the resync period (5 s; waited for up to a minute, the time
// is logged) with a drift report on the console.
func testDriftRepair(t *testing.T, d *dpLab) {
	before := formatTable(d.table(t))
	for _, c := range []struct{ name, cmd string }{
		{"flush", ipvsadmPath + " -C; cat /proc/net/ip_vs"},
		{"edit", ipvsadmPath + " -e -t " + dpVIPNAT + ":80 -r " + rs1IP + ":80 -m -w 9; cat /proc/net/ip_vs"},
	} {
		off := d.lb.Console.End()
		start := time.Now()
		changed := formatTable(parseServices(ipvsTable(grun(t, d.lb, c.cmd))))
		if changed == before {
			t.Fatalf("%s: %q did not change the table", c.name, c.cmd)
		}
		d.waitTable(t, stepTimeout, c.name+": table restored", func(tab map[string][]string) bool {
			return formatTable(tab) == before
		})
		took := time.Since(start)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		m, err := d.lb.Console.WaitFrom(ctx, off, driftRE)
		cancel()
		if err != nil {
			t.Errorf("%s: no drift report on the console after the repair: %v\n%s", c.name, err, d.lb.Console.Since(off))
		} else {
			t.Logf("%s (%s): table restored after %v; report: %s", c.name, c.cmd, took.Round(10*time.Millisecond), m.Text())
		}
	}
	counts, failed := d.get(t, 8, "http://"+dpVIPNAT+"/")
	if len(failed) > 0 || len(counts) != 2 {
		t.Errorf("NAT traffic after the repairs: answers %v, failures %v", counts, failed)
	}
}

// readyWritesRE reads the kernel writes of the first pass from the ready line.
var readyWritesRE = regexp.MustCompile(`lvsbox: ready[^\n]*?\bwrites=(\d+)`)

// testRestartAndReload runs request loops against the NAT, DR, TUN, persistent
// and IPv6 VIPs while the daemon is killed (-9, restarted by PID 1) and while
// the unchanged configuration is committed again: no request may fail, and
// neither the restarted daemon's first pass nor the reload's pass may write to
// the kernel.
func testRestartAndReload(t *testing.T, d *dpLab) {
	before := formatTable(d.table(t))
	urls := map[string]string{
		"nat": "http://" + dpVIPNAT + "/", "dr": "http://" + dpVIPDR + "/", "tun": fmt.Sprintf("http://%s:%d/", dpVIPTUN, dpTUNPort),
		"sticky": "http://" + dpVIPSticky + "/", "nat6": "http://[" + dpVIP6 + "]/",
	}
	loops := map[string]*vmlab.Proc{}
	ctx, cancel := context.WithTimeout(context.Background(), 4*stepTimeout)
	defer cancel()
	okLine := regexp.MustCompile(`(?m)^ok `)
	for name, url := range urls {
		p, err := d.client.Start(d.labsrv, "get", "-n", "0", "-interval", "200ms", "-timeout", "3s", url)
		if err != nil {
			t.Fatal(err)
		}
		loops[name] = p
	}
	waitOKs := func(when string, n int) {
		for name, p := range loops {
			p.Out.Skip()
			for range n {
				if _, err := p.Out.Wait(ctx, okLine); err != nil {
					t.Fatalf("%s loop %s: %v\n%s", name, when, err, p.Out.String())
				}
			}
		}
	}
	waitOKs("before the restart", 3)

	oldPid := strings.TrimSpace(lastLine(grun(t, d.lb, "cat /run/lvsboxd.pid")))
	if _, err := strconv.Atoi(oldPid); err != nil {
		t.Fatalf("/run/lvsboxd.pid holds %q", oldPid)
	}
	d.lb.Console.Skip()
	killed := time.Now()
	grun(t, d.lb, "kill -9 "+oldPid)
	m, err := d.lb.WaitConsole(ctx, readyWritesRE)
	if err != nil {
		t.Fatalf("daemon not ready again after kill -9 (or its ready line has no writes=N): %v", err)
	}
	t.Logf("daemon ready again %v after kill -9: %s", time.Since(killed).Round(time.Millisecond), m.Text())
	if m.Groups[1] != "0" {
		t.Errorf("the restarted daemon's first pass wrote %s times to the kernel, want 0: %s", m.Groups[1], m.Text())
	}
	waitOKs("after the restart", 3)

	off := d.lb.Console.End()
	rev := d.apply(t, dpVariant{})
	status := d.waitApplied(t, rev, stepTimeout)
	grun(t, d.lb, "true") // the daemon's log lines of that pass are on the console by now
	passRE := regexp.MustCompile(fmt.Sprintf(`(?m)^.*\bmsg="?(pass|drift)[^\n]*\brevision=%d\b.*$`, rev))
	if lines := passRE.FindAllString(d.lb.Console.Since(off), -1); len(lines) > 0 {
		t.Errorf("the no-op reload (revision %d) wrote to the kernel:\n%s", rev, strings.Join(lines, "\n"))
	}
	if m := regexp.MustCompile(`(?m)^last pass:.*?, (\d+) writes`).FindStringSubmatch(status); m == nil || m[1] != "0" {
		t.Errorf("status after the no-op reload: %v\n%s", m, status)
	}
	waitOKs("after the reload", 3)

	for name, p := range loops {
		_ = p.Signal(os.Interrupt)
		werr := p.Wait(ctx)
		counts, failed := countAnswers(p.Out.String())
		if werr != nil || len(failed) > 0 {
			t.Errorf("%s loop saw failures across the restart and the reload (%v): answers %v, failures:\n%s", name, werr, counts, strings.Join(failed, "\n"))
		} else {
			t.Logf("%s loop: answers %v", name, counts)
		}
	}
	if after := formatTable(d.table(t)); after != before {
		t.Errorf("table changed across the restart and the reload:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// testRemoveWithDrainTime removes the real server a held connection uses from
// the configuration: it must stay in the table with weight 0 for
// ipvs.drain_time (the connection keeps working, new connections go to the
// other server), then disappear.
func testRemoveWithDrainTime(t *testing.T, d *dpLab) {
	natURL := "http://" + dpVIPNAT + "/"
	svc := procSvc(dpVIPNAT, 80)
	rev := d.apply(t, dpVariant{scheduler: "rr"})
	d.waitApplied(t, rev, stepTimeout)
	d.waitTable(t, stepTimeout, "both real servers back (weights 3 and 1)", func(tab map[string][]string) bool {
		_, reals, _ := findService(tab, svc)
		_, w1, _ := destOf(reals, procDest(rs1IP, 80))
		_, w2, _ := destOf(reals, procDest(rs2IP, 80))
		return w1 == "3" && w2 == "1"
	})
	h := d.hold(t, natURL)
	x := h.server
	xDest := procDest(map[string]string{"rs1": rs1IP, "rs2": rs2IP}[x], 80)
	removed := time.Now()
	rev = d.apply(t, dpVariant{scheduler: "rr", remove: x})
	d.waitApplied(t, rev, stepTimeout)
	tab := d.table(t)
	_, reals, _ := findService(tab, svc)
	if _, w, ok := destOf(reals, xDest); !ok || w != "0" {
		t.Fatalf("%s right after its removal: in table %v, weight %q; want it kept with weight 0 for %v\n%s", x, ok, w, dpDrainTime, formatTable(tab))
	}
	counts, failed := d.get(t, 10, natURL)
	if len(failed) > 0 || counts[other(x)] != 10 {
		t.Errorf("new connections while %s drains: answers %v, failures %v; want all from %s", x, counts, failed, other(x))
	}
	// The established connection keeps working through most of the drain time.
	for time.Since(removed) < dpDrainTime*2/3 {
		h.more(t, 1, fmt.Sprintf("%v after removing %s", time.Since(removed).Round(time.Second), x))
	}
	h.stop(t)
	d.waitTable(t, dpDrainTime+2*stepTimeout, x+" removed after the drain time", func(tab map[string][]string) bool {
		_, reals, _ := findService(tab, svc)
		_, _, ok := destOf(reals, xDest)
		return !ok
	})
	gone := time.Since(removed)
	t.Logf("%s: weight 0 at once, gone from the table %v after its removal (drain_time %v)", x, gone.Round(100*time.Millisecond), dpDrainTime)
	if gone < dpDrainTime-time.Second {
		t.Errorf("%s left the table after %v, before drain_time %v", x, gone, dpDrainTime)
	}
}
