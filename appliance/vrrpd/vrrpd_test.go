package vrrpd

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
)

func vip4(s string) []config.VirtualAddress {
	return []config.VirtualAddress{{Address: netip.MustParsePrefix(s)}}
}

func instance(name, ifname string, vrid, prio int, addr string) config.VRRPInstance {
	return config.VRRPInstance{Name: name, Interface: ifname, VRID: vrid, Priority: prio, VirtualAddresses: vip4(addr)}
}

func TestMapInstance(t *testing.T) {
	no := false
	in := config.VRRPInstance{Name: "front", Interface: "eth0", VRID: 51, Version: 2, Priority: 200,
		AdvertInterval: config.Duration(time.Second), Preempt: &no, PreemptDelay: config.Duration(3 * time.Second), Accept: true,
		Unicast: true, UnicastSource: netip.MustParseAddr("192.0.2.2"), UnicastPeers: []netip.Addr{netip.MustParseAddr("192.0.2.3")},
		VirtualAddresses: vip4("192.0.2.100/24"),
		VirtualRoutes:    []config.Route{{Destination: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.254"), Metric: 5, Table: config.TableMain}},
		TrackInterfaces:  []config.TrackInterface{{Interface: "eth1", Weight: -20}},
		TrackServices:    []config.TrackService{{Service: "web", Weight: 0}},
		TrackScripts:     []config.TrackScript{{Script: "chk", Weight: 10}},
		AuthPass:         "secret12", VMAC: true,
		GARP: config.GARP{Count: 4, Interval: config.Duration(200 * time.Millisecond), Refresh: config.Duration(time.Minute)},
	}
	ic, tracks, warn, err := MapInstance(in)
	if err != nil || len(warn) != 0 {
		t.Fatal(err, warn)
	}
	want := node.InstanceConfig{Name: "front", Interface: "eth0", Version: 2, VRID: 51, Priority: 200, AdvertInterval: time.Second,
		NoPreempt: true, PreemptDelay: 3 * time.Second, AcceptMode: true,
		VIPs:     []netip.Prefix{netip.MustParsePrefix("192.0.2.100/24")},
		Routes:   []vip.Route{{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.254"), Metric: 5}},
		AuthType: vrrp.AuthPass, AuthPass: "secret12", UnicastPeers: []netip.Addr{netip.MustParseAddr("192.0.2.3")},
		SourceAddr: netip.MustParseAddr("192.0.2.2"), VMAC: true,
		Announce:        vip.Announce{Count: 4, Spacing: 200 * time.Millisecond, Refresh: time.Minute},
		TrackInterfaces: []node.TrackInterface{{Name: "eth1", Weight: -20}},
	}
	if !equalConfig(node.Config{Instances: []node.InstanceConfig{ic}}, node.Config{Instances: []node.InstanceConfig{want}}) {
		t.Errorf("mapped\n%+v\nwant\n%+v", ic, want)
	}
	if len(tracks) != 2 || tracks[0] != (Track{"service", "web", 0}) || tracks[1] != (Track{"script", "chk", 10}) {
		t.Errorf("tracks %v", tracks)
	}
	// Unsupported: a VIP on another device.
	in.VirtualAddresses = append(in.VirtualAddresses, config.VirtualAddress{Address: netip.MustParsePrefix("192.0.2.101/24"), Device: "eth9"})
	if _, _, _, err := MapInstance(in); err == nil || !strings.Contains(err.Error(), "eth9") {
		t.Errorf("VIP on another device: %v", err)
	}
}

func TestMapDefaultsAndGroups(t *testing.T) {
	cfg := config.Config{
		VRRPInstances: []config.VRRPInstance{
			instance("a", "eth0", 1, 0, "192.0.2.101/24"),
			instance("b", "eth0", 2, 150, "192.0.2.102/24"),
			instance("c", "eth1", 3, 150, "198.51.100.103/24"),
			{Name: "bad", Interface: "eth0", VRID: 4, VirtualAddresses: vip4("192.0.2.104/24"), InitialState: config.InitialMaster,
				Version: 2, AdvertInterval: config.Duration(10 * time.Millisecond)},
		},
		VRRPSyncGroups: []config.VRRPSyncGroup{{Name: "g", Members: []string{"b", "c"}}},
		VRRPScripts:    []config.VRRPScript{{Name: "chk", Path: "/bin/true"}},
	}
	cfg.VRRPInstances[0].TrackScripts = []config.TrackScript{{Script: "chk"}}
	cfg.VRRPInstances[1].InitialState = config.InitialMaster
	p := Map(cfg)
	if len(p.Units) != 2 || p.Units[0].Key != "group/g" || p.Units[1].Key != "instance/a" {
		t.Fatalf("units %+v", p.Units)
	}
	a := p.Units[1].Config.Instances[0]
	if a.Version != 3 || a.Priority != 100 || a.AdvertInterval != time.Second || a.NoPreempt || a.Announce.Count != config.DefaultGARPCount {
		t.Errorf("defaults not applied: %+v", a)
	}
	if g := p.Units[0].Config; len(g.Instances) != 2 || len(g.SyncGroups) != 1 || g.SyncGroups[0].Name != "g" {
		t.Errorf("group unit %+v", g)
	}
	if _, ok := p.Scripts["chk"]; !ok || len(p.Scripts) != 1 {
		t.Errorf("scripts %v", p.Scripts)
	}
	if len(p.Errors) != 1 || !strings.Contains(p.Errors[0], `"bad"`) {
		t.Errorf("errors %q", p.Errors)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings %q", p.Warnings)
	}
	if g := p.Units[0].Config; !g.Instances[0].InitialMaster || g.Instances[1].InitialMaster || a.InitialMaster {
		t.Errorf("initial_state master not mapped: %+v", g.Instances)
	}
}

func TestDiff(t *testing.T) {
	base := node.Config{Instances: []node.InstanceConfig{{Name: "a", Interface: "eth0", Version: 3, VRID: 1, Priority: 100,
		AdvertInterval: time.Second, VIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}}}}
	mod := func(f func(*node.InstanceConfig)) node.Config {
		c := cloneConfig(base)
		c.Instances[0].VIPs = append([]netip.Prefix(nil), c.Instances[0].VIPs...)
		f(&c.Instances[0])
		return c
	}
	for _, tc := range []struct {
		name string
		next node.Config
		want change
	}{
		{"same", mod(func(*node.InstanceConfig) {}), keep},
		{"empty vs nil lists", mod(func(ic *node.InstanceConfig) { ic.Routes = []vip.Route{} }), keep},
		{"priority", mod(func(ic *node.InstanceConfig) { ic.Priority = 150 }), priority},
		{"to owner", mod(func(ic *node.InstanceConfig) { ic.Priority = 255 }), restart},
		{"vips", mod(func(ic *node.InstanceConfig) { ic.VIPs = append(ic.VIPs, netip.MustParsePrefix("192.0.2.2/24")) }), live},
		{"priority and interval", mod(func(ic *node.InstanceConfig) { ic.Priority, ic.AdvertInterval = 150, 2*time.Second }), live},
		{"routes and tracking", mod(func(ic *node.InstanceConfig) {
			ic.Routes = []vip.Route{{Dst: netip.MustParsePrefix("203.0.113.0/24")}}
			ic.TrackInterfaces = []node.TrackInterface{{Name: "eth1", Weight: -20}}
		}), live},
		{"interface", mod(func(ic *node.InstanceConfig) { ic.Interface = "eth1" }), restart},
		{"vrid", mod(func(ic *node.InstanceConfig) { ic.VRID = 2 }), restart},
		{"unicast", mod(func(ic *node.InstanceConfig) { ic.UnicastPeers = []netip.Addr{netip.MustParseAddr("192.0.2.9")} }), restart},
		{"group", node.Config{Instances: base.Instances, SyncGroups: []node.SyncGroup{{Name: "g", Members: []string{"a"}}}}, restart},
	} {
		if got := diff(base, tc.next); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// svc runs a Service with fakes until the test ends.
func svc(t *testing.T, src *fakeSource, f *fakeFactory, o Options) *Service {
	t.Helper()
	o.Source, o.NewManager, o.Poll = src.get, f.new, time.Hour
	s := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestUnchangedUnitUntouched(t *testing.T) {
	src, f := &fakeSource{}, &fakeFactory{}
	cfg := config.Config{VRRPInstances: []config.VRRPInstance{
		instance("a", "eth0", 1, 100, "192.0.2.101/24"), instance("b", "eth0", 2, 100, "192.0.2.102/24")}}
	src.set(cfg)
	s := svc(t, src, f, Options{})
	waitFor(t, "two units", func() bool { m, _ := f.live(); return len(m) == 2 })
	m0, _ := f.live()
	a, b := m0["a"], m0["b"]

	step := func(what string, change func(*config.Config), check func(live map[string]*fakeMgr, made int) bool) {
		t.Helper()
		change(&cfg)
		src.set(cfg.Clone())
		s.Kick()
		waitFor(t, what, func() bool { return s.Status().Revision == src.rev && check(f.live()) })
	}
	// b's addresses change: applied live, nothing restarts.
	step("b updated live", func(c *config.Config) { c.VRRPInstances[1].VirtualAddresses = vip4("192.0.2.112/24") },
		func(live map[string]*fakeMgr, made int) bool {
			u := b.updated()
			return made == 2 && live["a"] == a && live["b"] == b && len(u) == 1 &&
				slices.Equal(u[0].VIPs, []netip.Prefix{netip.MustParsePrefix("192.0.2.112/24")})
		})
	// b's VRID changes: b restarts, a is untouched.
	step("b restarted", func(c *config.Config) { c.VRRPInstances[1].VRID = 12 },
		func(live map[string]*fakeMgr, made int) bool {
			return made == 3 && live["a"] == a && live["b"] != b && b.isStopped()
		})
	// An unrelated change (a new service, hostname): nothing restarts.
	step("unrelated change", func(c *config.Config) { c.System.Hostname = "lb2" },
		func(live map[string]*fakeMgr, made int) bool { return made == 3 && live["a"] == a })
	// a's priority: live delta, no restart.
	step("priority live", func(c *config.Config) { c.VRRPInstances[0].Priority = 180 },
		func(live map[string]*fakeMgr, made int) bool {
			return made == 3 && a.delta("a", "config-priority") == 80
		})
	if st := s.Status(); st.Instances[0].BasePriority != 180 || st.Instances[0].Restarts != 0 || st.Instances[1].Restarts != 1 {
		t.Errorf("status %+v", st.Instances)
	}
	// Back to the started priority: the delta goes.
	step("priority back", func(c *config.Config) { c.VRRPInstances[0].Priority = 100 },
		func(live map[string]*fakeMgr, made int) bool {
			return made == 3 && a.delta("a", "config-priority") == 0
		})
	// b removed: stopped, a untouched.
	step("b removed", func(c *config.Config) { c.VRRPInstances = c.VRRPInstances[:1] },
		func(live map[string]*fakeMgr, made int) bool { return made == 3 && len(live) == 1 && live["a"] == a })
	if a.isStopped() {
		t.Error("a was stopped")
	}
}

func TestTrackingEventsAndGate(t *testing.T) {
	src, f := &fakeSource{}, &fakeFactory{}
	in := instance("a", "eth0", 1, 100, "192.0.2.101/24")
	in.TrackServices = []config.TrackService{{Service: "web", Weight: 0}, {Service: "db", Weight: -30}}
	src.set(config.Config{VRRPInstances: []config.VRRPInstance{in}})
	h := &fakeHealth{up: map[string]bool{"web": true, "db": true}, watc: make(chan struct{}, 1)}
	hub := &fakeHub{}
	masters := make(chan struct{}, 4)
	gate := fakeGate{release: make(chan struct{})}
	s := svc(t, src, f, Options{Health: h, Events: hub, OnMaster: func() { masters <- struct{}{} }, Gate: gate, GateTimeout: time.Minute})
	waitFor(t, "unit", func() bool { m, _ := f.live(); return m["a"] != nil })
	m, _ := f.live()
	a := m["a"]

	h.setUp("db", false)
	waitFor(t, "db delta", func() bool { return a.delta("a", "service:db") == -30 })
	h.setUp("web", false)
	waitFor(t, "web fault", func() bool { r, ok := a.fault("a", "service:web"); return ok && r == "down" })
	if d := a.delta("a", "service:web"); d != 0 {
		t.Errorf("weight-0 service down: delta %d, want none (FAULT instead)", d)
	}
	if tr := s.Status().Instances[0].Tracking; len(tr) != 2 || !tr[0].Fault || tr[0].State != "down" {
		t.Errorf("tracking status %+v", tr)
	}
	h.setUp("web", true)
	waitFor(t, "web fault cleared", func() bool { _, ok := a.fault("a", "service:web"); return !ok })

	a.opts.Events <- node.Event{Instance: "a", Change: node.TransitionRecord{At: time.Now(), From: "Backup", To: "Master", Reason: "master-down"}}
	select {
	case <-masters:
	case <-time.After(5 * time.Second):
		t.Fatal("OnMaster not called")
	}
	waitFor(t, "event published", func() bool { return hub.count() == 1 })
	if tr := s.Status().Instances[0].Transitions; len(tr) != 1 || tr[0].To != "Master" {
		t.Errorf("history %+v", tr)
	}

	// The manager's kernel holds a VIP add until the engine's pass is done.
	k := fakeKernel{added: make(chan netip.Prefix, 1)}
	gk := a.opts.Kernel.(gatedKernel)
	gk.Kernel = k
	go gk.AddAddr(1, netip.MustParsePrefix("192.0.2.101/24"))
	select {
	case <-k.added:
		t.Fatal("address added before the IPVS pass")
	case <-time.After(50 * time.Millisecond):
	}
	close(gate.release)
	select {
	case <-k.added:
	case <-time.After(5 * time.Second):
		t.Fatal("address not added after the IPVS pass")
	}
}

func TestScripts(t *testing.T) {
	results := make(chan error, 16)
	sc := newScripts(func(ctx context.Context, _ config.VRRPScript) error {
		select {
		case err := <-results:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}, nil)
	sc.log = discard()
	defer sc.stopAll()
	sc.configure(map[string]config.VRRPScript{"chk": {Name: "chk", Interval: config.Duration(time.Millisecond), Rise: 2, Fall: 1}})
	if _, known := sc.state("chk"); known {
		t.Fatal("state known before any result")
	}
	results <- nil
	results <- nil
	<-sc.changed
	if up, known := sc.state("chk"); !up || !known {
		t.Fatalf("after rise: up=%v known=%v", up, known)
	}
	results <- context.DeadlineExceeded
	<-sc.changed
	if up, _ := sc.state("chk"); up {
		t.Fatal("still up after a failure with fall 1")
	}
}
