package node

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet/vrnettest"
)

const (
	master = "Master"
	backup = "Backup"
	fault  = "Fault"
)

func oneSeg() map[string]*vrnettest.Segment { return map[string]*vrnettest.Segment{"eth0": {}} }

func TestElectionFailoverAndCleanStop(t *testing.T) {
	segs := oneSeg()
	route := []vip.Route{{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.254")}}
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200, func(ic *InstanceConfig) { ic.Routes = route })}})
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100, func(ic *InstanceConfig) { ic.Routes = route })}})
	eventually(t, "a master, b backup", func() bool { return a.state("vi") == master && b.state("vi") == backup })
	eventually(t, "VIP and route on a", func() bool { return a.kern.Has("eth0", "192.0.2.101/24") && len(a.kern.Routes()) == 1 })
	if b.kern.Has("eth0", "192.0.2.101/24") || len(b.kern.Routes()) != 0 {
		t.Fatal("VIP or route on the backup")
	}
	eventually(t, "b knows the master", func() bool { return b.status("vi").MasterAddr == netip.MustParseAddr("192.0.2.1") })
	eventually(t, "a announced", func() bool { return a.ann.Count() >= 1 })

	// Clean stop: priority 0, b takes over after Skew_Time (~12 ms at 20 ms, priority 100).
	stopped := time.Now()
	a.stop(t)
	eventually(t, "b master", func() bool { return b.state("vi") == master })
	took := time.Since(stopped)
	if a.kern.Has("eth0", "192.0.2.101/24") || len(a.kern.Routes()) != 0 {
		t.Error("a kept the VIP or route after a clean stop")
	}
	if s := b.status("vi"); s.Counters.PriorityZeroReceived != 1 || s.Transitions[len(s.Transitions)-1].Reason != string(vrrp.ReasonMasterReleased) {
		t.Errorf("b after a's priority 0: %+v", s)
	}
	t.Logf("clean-stop takeover in %v (Master_Down_Interval would be %v)", took, vrrp.MasterDownInterval(3, 100, 20*time.Millisecond))
}

func TestKillAndPreempt(t *testing.T) {
	segs := oneSeg()
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200)}})
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100)}})
	eventually(t, "a master", func() bool { return a.state("vi") == master && b.state("vi") == backup })
	a.kill(segs)
	eventually(t, "b master after a died", func() bool { return b.state("vi") == master })
	// a comes back (a new process): it starts as backup, removes the
	// leftover VIP, and preempts.
	a.stop(t)
	a2 := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200)}})
	eventually(t, "a back as master, b backup", func() bool { return a2.state("vi") == master && b.state("vi") == backup })
	eventually(t, "VIP only on a", func() bool {
		return a2.kern.Has("eth0", "192.0.2.101/24") && !b.kern.Has("eth0", "192.0.2.101/24")
	})
	if s := b.status("vi"); s.Transitions[len(s.Transitions)-1].Reason != string(vrrp.ReasonHigherPriority) {
		t.Errorf("b left master for %q", s.Transitions[len(s.Transitions)-1].Reason)
	}
	time.Sleep(100 * time.Millisecond)
	if n := a2.status("vi").Counters.DualMasterEpisodes; n != 0 {
		t.Errorf("a preempting b counted %d dual-master episodes", n)
	}
}

func TestNoPreemptAndPreemptDelay(t *testing.T) {
	// 100 ms adverts: the "never" checks must survive a busy host.
	slow := func(ic *InstanceConfig) { ic.AdvertInterval = 100 * time.Millisecond }
	segs := oneSeg()
	low := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100, slow)}})
	eventually(t, "low master", func() bool { return low.state("vi") == master })
	np := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200, slow, func(ic *InstanceConfig) { ic.NoPreempt = true })}})
	never(t, time.Second, "no-preempt router took over", func() bool { return np.state("vi") == master })
	np.stop(t)

	started := time.Now()
	pd := startHost(t, 3, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200, slow, func(ic *InstanceConfig) { ic.PreemptDelay = time.Second })}})
	never(t, 900*time.Millisecond, "preempted within the delay", func() bool { return pd.state("vi") == master })
	eventually(t, "preempt after the delay", func() bool { return pd.state("vi") == master && low.state("vi") == backup })
	if d := time.Since(started); d < time.Second {
		t.Errorf("took over after %v, before the 1 s delay", d)
	}
}

func TestTrackedInterface(t *testing.T) {
	segs := map[string]*vrnettest.Segment{"eth0": {}, "eth1": {}}
	track := func(w int) func(*InstanceConfig) {
		return func(ic *InstanceConfig) { ic.TrackInterfaces = []TrackInterface{{Name: "eth1", Weight: w}} }
	}
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200, track(0)), inst("vw", 2, 200, track(-150))}})
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100), inst("vw", 2, 100)}})
	eventually(t, "a master of both", func() bool { return a.state("vi") == master && a.state("vw") == master })
	a.links.set("eth1", func(l *LinkState) { l.Up = false })
	eventually(t, "vi fault, vw lowered to 50", func() bool {
		return a.state("vi") == fault && a.status("vi").Fault == "tracked interface eth1 down" && a.status("vw").Priority == 50
	})
	eventually(t, "b master of both", func() bool { return b.state("vi") == master && b.state("vw") == master && a.state("vw") == backup })
	if a.kern.Has("eth0", "192.0.2.101/24") || a.kern.Has("eth0", "192.0.2.102/24") {
		t.Error("a kept a VIP")
	}
	a.links.set("eth1", func(l *LinkState) { l.Up = true })
	eventually(t, "a master again", func() bool { return a.state("vi") == master && a.state("vw") == master && b.state("vi") == backup })
	// External delta (health check): -150 drops a below b.
	if err := a.mgr.SetPriorityDelta("vw", "health:web", -150); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b takes vw", func() bool { return b.state("vw") == master && a.status("vw").Priority == 50 })
	if err := a.mgr.SetPriorityDelta("vw", "health:web", 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a takes vw back", func() bool { return a.state("vw") == master })
	if err := a.mgr.SetPriorityDelta("nope", "x", 1); err == nil {
		t.Error("delta for an unknown instance accepted")
	}
}

func TestOwnInterfaceDownAndNoAddress(t *testing.T) {
	segs := oneSeg()
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200)}})
	eventually(t, "a master", func() bool { return a.state("vi") == master })
	a.links.set("eth0", func(l *LinkState) { l.Up = false })
	eventually(t, "fault", func() bool { return a.state("vi") == fault && a.status("vi").Fault == "interface eth0 down" })
	a.links.set("eth0", func(l *LinkState) { l.Up = true; l.Addrs = l.Addrs[1:] })
	eventually(t, "fault: no address", func() bool { return a.status("vi").Fault == "no ipv4 source address on eth0" })
	a.links.set("eth0", func(l *LinkState) {
		l.Addrs = append(l.Addrs, AddrState{Prefix: netip.MustParsePrefix("192.0.2.7/24")})
	})
	eventually(t, "master from the new address", func() bool {
		s := a.status("vi")
		return s.State == master && s.PrimaryAddr == netip.MustParseAddr("192.0.2.7")
	})
}

func TestUnicastPeers(t *testing.T) {
	segs := oneSeg()
	uni := func(peer string) func(*InstanceConfig) {
		return func(ic *InstanceConfig) { ic.UnicastPeers = []netip.Addr{netip.MustParseAddr(peer)} }
	}
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200, uni("192.0.2.2"))}})
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100, uni("192.0.2.1"))}})
	// c is on the segment but not a peer of b: its adverts are dropped.
	c := startHost(t, 3, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 250, uni("192.0.2.2"))}})
	eventually(t, "a master, b backup", func() bool { return a.state("vi") == master && b.state("vi") == backup })
	eventually(t, "b drops c's adverts", func() bool { return b.status("vi").Counters.Dropped["peer"] > 0 })
	for _, s := range a.conns["eth0"].Sent() {
		if s.Dst != netip.MustParseAddr("192.0.2.2") {
			t.Fatalf("a sent to %v, want the unicast peer only", s.Dst)
		}
	}
	_ = c
}

func TestSyncGroup(t *testing.T) {
	segs := map[string]*vrnettest.Segment{"eth0": {}, "eth1": {}}
	slow := func(ic *InstanceConfig) { ic.AdvertInterval = 100 * time.Millisecond }
	group := func(prio uint8) Config {
		return Config{
			Instances: []InstanceConfig{inst("front", 1, prio, slow), inst("back", 2, prio, slow, func(ic *InstanceConfig) {
				ic.Interface = "eth1"
				ic.VIPs = []netip.Prefix{netip.MustParsePrefix("198.51.100.1/24")}
				ic.SourceAddr = netip.Addr{}
			})},
			SyncGroups: []SyncGroup{{Name: "g", Members: []string{"front", "back"}}},
		}
	}
	a := startHost(t, 1, segs, group(200))
	b := startHost(t, 2, segs, group(100))
	both := func(h *host, st string) bool { return h.state("front") == st && h.state("back") == st }
	eventually(t, "a master of the group", func() bool { return both(a, master) && both(b, backup) })

	// back's interface fails on a: the whole group goes to FAULT there and
	// b takes both.
	a.links.set("eth1", func(l *LinkState) { l.Up = false })
	eventually(t, "a fault, b master", func() bool { return both(a, fault) && both(b, master) })
	if f := a.status("front").Fault; !strings.Contains(f, "sync group g: back: interface eth1 down") {
		t.Errorf("front's fault: %q", f)
	}
	a.links.set("eth1", func(l *LinkState) { l.Up = true })
	eventually(t, "a master again", func() bool { return both(a, master) && both(b, backup) })

	// A higher router for front only (another box c): a's front loses
	// Master, back follows (sync-group), and b's back is held since its
	// front partner hears c.
	c := startHost(t, 3, segs, Config{Instances: []InstanceConfig{inst("front", 1, 250, slow)}})
	eventually(t, "c master of front, a backup of both", func() bool {
		return c.state("front") == master && both(a, backup) && both(b, backup)
	})
	last := a.status("back").Transitions
	if last[len(last)-1].Reason != string(vrrp.ReasonSyncGroup) {
		t.Errorf("a's back left master for %q", last[len(last)-1].Reason)
	}
	never(t, time.Second, "a back member took over alone", func() bool {
		return a.state("back") == master || b.state("back") == master
	})
	eventually(t, "a's back is held", func() bool { return a.status("back").HeldBySync })
	c.stop(t)
	eventually(t, "a master of both again", func() bool { return both(a, master) && both(b, backup) })
}

func TestSplitBrain(t *testing.T) {
	segs := oneSeg()
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200)}})
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100)}})
	eventually(t, "a master", func() bool { return a.state("vi") == master && b.state("vi") == backup })
	segs["eth0"].Cut(a.conns["eth0"], true)
	eventually(t, "both master", func() bool { return b.state("vi") == master && a.state("vi") == master })
	announced := a.ann.Count()
	segs["eth0"].Cut(a.conns["eth0"], false)
	eventually(t, "b backs off", func() bool { return b.state("vi") == backup })
	eventually(t, "VIP only on a", func() bool { return !b.kern.Has("eth0", "192.0.2.101/24") && a.kern.Has("eth0", "192.0.2.101/24") })
	s := a.status("vi")
	if s.Counters.DualMasterEpisodes < 1 {
		t.Errorf("dual master episodes %d", s.Counters.DualMasterEpisodes)
	}
	eventually(t, "fresh announcements from a", func() bool { return a.ann.Count() > announced })
}

func TestIPv6AndVMAC(t *testing.T) {
	segs := oneSeg()
	v6 := func(ic *InstanceConfig) {
		ic.VIPs = []netip.Prefix{netip.MustParsePrefix("fe80::100/64"), netip.MustParsePrefix("2001:db8::100/64")}
		ic.VMAC = true
	}
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("v6", 7, 200, v6)}})
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("v6", 7, 100, v6)}})
	eventually(t, "a master", func() bool { return a.state("v6") == master && b.state("v6") == backup })
	eventually(t, "VIPs on a's VMAC interface", func() bool { return a.kern.Has("vrrp6.7", "2001:db8::100/64") })
	if s := a.status("v6"); s.PrimaryAddr != netip.MustParseAddr("fe80::1") {
		t.Errorf("source %v, want the link-local fe80::1", s.PrimaryAddr)
	}
	eventually(t, "NA with the virtual MAC", func() bool {
		sent, _ := a.ann.Sent()
		return len(sent) > 0 && strings.Contains(sent[0], "00:00:5e:00:02:07")
	})
	for _, s := range a.conns["eth0"].Sent() {
		if s.Dst != vrrp.GroupIPv6 || s.Src != netip.MustParseAddr("fe80::1") {
			t.Fatalf("advert %v -> %v", s.Src, s.Dst)
		}
	}
}

func TestMetrics(t *testing.T) {
	segs := oneSeg()
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200)}})
	eventually(t, "a master", func() bool { return a.state("vi") == master })
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewCollector(a.mgr)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			got[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = v
		}
	}
	l := "{instance=vi,interface=eth0,vrid=1}"
	if got["lvsbox_vrrp_state"+l] != 2 || got["lvsbox_vrrp_priority"+l] != 200 || got["lvsbox_vrrp_became_master_total"+l] != 1 {
		t.Errorf("metrics: %v", got)
	}
	if got["lvsbox_vrrp_transitions_total{instance=vi,interface=eth0,to=Master,vrid=1}"] != 1 {
		t.Errorf("transitions: %v", got)
	}
	if got["lvsbox_vrrp_adverts_sent_total"+l] < 1 {
		t.Errorf("adverts sent: %v", got)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := inst("a", 1, 100)
	bad := map[string]Config{
		"duplicate name": {Instances: []InstanceConfig{ok, ok}},
		"same vrid":      {Instances: []InstanceConfig{ok, inst("b", 1, 100)}},
		"unknown member": {Instances: []InstanceConfig{ok}, SyncGroups: []SyncGroup{{Name: "g", Members: []string{"x"}}}},
		"two groups": {Instances: []InstanceConfig{ok}, SyncGroups: []SyncGroup{
			{Name: "g", Members: []string{"a"}}, {Name: "h", Members: []string{"a"}}}},
		"v2 over IPv6": {Instances: []InstanceConfig{inst("a", 1, 100, func(ic *InstanceConfig) {
			ic.Version, ic.AdvertInterval, ic.VIPs = 2, time.Second, []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64")}
		})}},
		"peer family": {Instances: []InstanceConfig{inst("a", 1, 100, func(ic *InstanceConfig) {
			ic.UnicastPeers = []netip.Addr{netip.MustParseAddr("2001:db8::1")}
		})}},
		"track twice": {Instances: []InstanceConfig{inst("a", 1, 100, func(ic *InstanceConfig) {
			ic.TrackInterfaces = []TrackInterface{{Name: "x"}, {Name: "x"}}
		})}},
		"route family": {Instances: []InstanceConfig{inst("a", 1, 100, func(ic *InstanceConfig) {
			ic.Routes = []vip.Route{{Dst: netip.MustParsePrefix("2001:db8::/64")}}
		})}},
		"no interface": {Instances: []InstanceConfig{inst("a", 1, 100, func(ic *InstanceConfig) { ic.Interface = "" })}},
	}
	for name, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	good := Config{Instances: []InstanceConfig{ok, inst("b", 1, 100, func(ic *InstanceConfig) { ic.Interface = "eth1" })},
		SyncGroups: []SyncGroup{{Name: "g", Members: []string{"a", "b"}}}}
	if err := good.Validate(); err != nil {
		t.Errorf("good config: %v", err)
	}
}

func TestAssess(t *testing.T) {
	ic := inst("a", 1, 100, func(ic *InstanceConfig) {
		ic.TrackInterfaces = []TrackInterface{{Name: "up", Weight: 10}, {Name: "down", Weight: -20}, {Name: "gone", Weight: 5}}
	})
	pfx := func(s string, sec, tent bool) AddrState {
		return AddrState{Prefix: netip.MustParsePrefix(s), Secondary: sec, Tentative: tent}
	}
	f := Facts{
		"eth0": {Name: "eth0", Up: true, Addrs: []AddrState{pfx("192.0.2.101/24", false, false), pfx("192.0.2.9/24", true, false), pfx("192.0.2.5/24", false, false)}},
		"up":   {Name: "up", Up: true},
		"down": {Name: "down"},
	}
	a := Assess(&ic, f)
	if a.Fault != "" || a.Delta != -10 || a.Primary != netip.MustParseAddr("192.0.2.5") {
		t.Errorf("assessment %+v (want no fault, delta 10-20, primary the first non-VIP primary address)", a)
	}
	ic6 := inst("b", 1, 100, func(ic *InstanceConfig) { ic.VIPs = []netip.Prefix{netip.MustParsePrefix("2001:db8::1/64")} })
	f6 := Facts{"eth0": {Name: "eth0", Up: true, Addrs: []AddrState{pfx("2001:db8::5/64", false, false), pfx("fe80::5/64", false, true), pfx("fe80::6/64", false, false)}}}
	if a := Assess(&ic6, f6); a.Primary != netip.MustParseAddr("fe80::6") {
		t.Errorf("IPv6 primary %v, want the first usable link-local", a.Primary)
	}
	if a := Assess(&ic, Facts{}); a.Fault != "interface eth0 missing" {
		t.Errorf("missing interface: %+v", a)
	}
	ic.SourceAddr = netip.MustParseAddr("192.0.2.77")
	if a := Assess(&ic, f); a.Primary.IsValid() || !strings.Contains(a.Fault, "no ipv4 source") {
		t.Errorf("absent configured source: %+v", a)
	}
}

func TestLinkTable(t *testing.T) {
	tb := newLinkTable()
	tb.setLink(LinkState{Name: "eth0", Index: 2, Up: true}, false)
	tb.setAddr(2, AddrState{Prefix: netip.MustParsePrefix("192.0.2.1/24")}, false)
	tb.setAddr(2, AddrState{Prefix: netip.MustParsePrefix("fe80::1/64"), Tentative: true}, false)
	tb.setAddr(2, AddrState{Prefix: netip.MustParsePrefix("fe80::1/64")}, false) // DAD done
	f := tb.facts()
	if l := f["eth0"]; len(l.Addrs) != 2 || l.Addrs[1].Tentative {
		t.Fatalf("facts %+v", f)
	}
	tb.setLink(LinkState{Name: "eth0", Index: 2, Up: false}, false)
	if g := tb.facts(); g.equal(f) || g["eth0"].Up || len(g["eth0"].Addrs) != 2 {
		t.Fatalf("after down %+v", g)
	}
	tb.setLink(LinkState{Name: "eth0", Index: 2}, true)
	if len(tb.facts()) != 0 {
		t.Fatal("deleted link still there")
	}
	_ = fmt.Sprint()
}
