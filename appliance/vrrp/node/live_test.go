package node

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
)

func (h *host) deleted(p string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Contains(h.dels, netip.MustParsePrefix(p))
}

func (h *host) eventCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

func TestLiveUpdate(t *testing.T) {
	segs := oneSeg()
	pfx := netip.MustParsePrefix
	r1 := vip.Route{Dst: pfx("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.254")}
	r2 := vip.Route{Dst: pfx("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.254")}
	old := func(ic *InstanceConfig) {
		ic.VIPs = []netip.Prefix{pfx("192.0.2.101/24"), pfx("192.0.2.111/24")}
		ic.Routes = []vip.Route{r1}
	}
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200, old)}})
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100, old)}})
	eventually(t, "a master with both VIPs", func() bool {
		return a.state("vi") == master && b.state("vi") == backup && a.kern.Has("eth0", "192.0.2.101/24") && a.kern.Has("eth0", "192.0.2.111/24")
	})
	eventually(t, "b knows a", func() bool { return b.status("vi").MasterAddr == netip.MustParseAddr("192.0.2.1") })
	ea, eb := a.eventCount(), b.eventCount()

	// Drop .111 and r1, add .121 and r2, advertise every 30 ms.
	next := func(prio uint8) InstanceConfig {
		return inst("vi", 1, prio, func(ic *InstanceConfig) {
			ic.VIPs = []netip.Prefix{pfx("192.0.2.101/24"), pfx("192.0.2.121/24")}
			ic.Routes = []vip.Route{r2}
			ic.AdvertInterval = 30 * time.Millisecond
		})
	}
	if err := b.mgr.Update(next(100)); err != nil {
		t.Fatal(err)
	}
	if err := a.mgr.Update(next(200)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a holds the new set", func() bool {
		return a.kern.Has("eth0", "192.0.2.121/24") && !a.kern.Has("eth0", "192.0.2.111/24") &&
			slices.Equal(a.kern.Routes(), []string{r2.String()})
	})
	eventually(t, "a announced the new VIP", func() bool {
		sent, _ := a.ann.Sent()
		return slices.ContainsFunc(sent, func(s string) bool { return strings.HasSuffix(s, " 192.0.2.121") })
	})
	eventually(t, "b learned the 30 ms interval", func() bool { return b.status("vi").MasterInterval == 30*time.Millisecond })
	// Let a few adverts at the new interval go by: still no transition.
	never(t, 200*time.Millisecond, "a transition after a live update", func() bool {
		return a.eventCount() != ea || b.eventCount() != eb || a.state("vi") != master || b.state("vi") != backup
	})
	if a.deleted("192.0.2.101/24") {
		t.Error("the kept VIP was deleted (flap)")
	}
	if !a.kern.Has("eth0", "192.0.2.101/24") {
		t.Error("the kept VIP is gone")
	}
	for _, p := range []string{"192.0.2.101/24", "192.0.2.111/24", "192.0.2.121/24"} {
		if b.kern.Has("eth0", p) {
			t.Errorf("backup holds %s", p)
		}
	}
	if s := b.status("vi"); !slices.Equal(s.VIPs, next(100).VIPs) || s.AdvertInterval != 30*time.Millisecond {
		t.Errorf("backup status after update: VIPs %v interval %v", s.VIPs, s.AdvertInterval)
	}

	// The backup takes over with the new set.
	a.kill(segs)
	eventually(t, "b master with the new set", func() bool {
		return b.state("vi") == master && b.kern.Has("eth0", "192.0.2.121/24") && b.kern.Has("eth0", "192.0.2.101/24") &&
			!b.kern.Has("eth0", "192.0.2.111/24") && slices.Equal(b.kern.Routes(), []string{r2.String()})
	})

	// Changes that need a restart are refused.
	for name, mod := range map[string]func(*InstanceConfig){
		"vrid":      func(ic *InstanceConfig) { ic.VRID = 9 },
		"interface": func(ic *InstanceConfig) { ic.Interface = "eth1" },
		"version": func(ic *InstanceConfig) {
			ic.Version, ic.AdvertInterval = 2, time.Second
		},
		"unicast": func(ic *InstanceConfig) { ic.UnicastPeers = []netip.Addr{netip.MustParseAddr("192.0.2.9")} },
		"owner":   func(ic *InstanceConfig) { ic.Priority = 255 },
	} {
		ic := next(100)
		mod(&ic)
		if err := b.mgr.Update(ic); !errors.Is(err, ErrRestartNeeded) {
			t.Errorf("%s change: %v, want ErrRestartNeeded", name, err)
		}
	}
	if err := b.mgr.Update(inst("nope", 1, 100)); err == nil {
		t.Error("update of an unknown instance accepted")
	}
}

func TestLivePriorityAndTracking(t *testing.T) {
	segs := oneSeg()
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200)}})
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100)}})
	eventually(t, "a master", func() bool { return a.state("vi") == master && b.state("vi") == backup })
	// A live base priority change makes b preempt; a tracked interface
	// added live puts a in FAULT when it is down.
	if err := b.mgr.Update(inst("vi", 1, 250)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b preempts at 250", func() bool {
		return b.state("vi") == master && b.status("vi").Priority == 250 && a.state("vi") == backup
	})
	if err := b.mgr.Update(inst("vi", 1, 250, func(ic *InstanceConfig) {
		ic.TrackInterfaces = []TrackInterface{{Name: "eth9", Weight: 0}}
	})); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b in fault (eth9 missing)", func() bool { return b.state("vi") == fault && a.state("vi") == master })
}

func TestExternalFault(t *testing.T) {
	segs := oneSeg()
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200)}})
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100)}})
	eventually(t, "a master", func() bool { return a.state("vi") == master && a.kern.Has("eth0", "192.0.2.101/24") })
	if err := a.mgr.SetFault("vi", "service:web", true, "down"); err != nil {
		t.Fatal(err)
	}
	if err := a.mgr.SetFault("vi", "script:chk", true, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a in fault, b master", func() bool {
		return a.state("vi") == fault && a.status("vi").Fault == "script:chk; service:web: down" && b.state("vi") == master
	})
	if a.kern.Has("eth0", "192.0.2.101/24") {
		t.Error("a kept the VIP in fault")
	}
	if s := b.status("vi"); s.Transitions[len(s.Transitions)-1].Reason != string(vrrp.ReasonMasterReleased) {
		t.Errorf("b took over for %q, want %q (a sent priority 0)", s.Transitions[len(s.Transitions)-1].Reason, vrrp.ReasonMasterReleased)
	}
	if err := a.mgr.SetFault("vi", "service:web", false, ""); err != nil {
		t.Fatal(err)
	}
	never(t, 100*time.Millisecond, "fault cleared with a source still faulted", func() bool { return a.state("vi") != fault })
	if err := a.mgr.SetFault("vi", "script:chk", false, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a master again", func() bool { return a.state("vi") == master && a.status("vi").Fault == "" && b.state("vi") == backup })
	if err := a.mgr.SetFault("nope", "x", true, ""); err == nil {
		t.Error("fault for an unknown instance accepted")
	}
}

func TestInitialMaster(t *testing.T) {
	segs := oneSeg()
	initial := func(ic *InstanceConfig) { ic.InitialMaster = true; ic.AdvertInterval = time.Second }
	// Alone: Master at once, not after Master_Down_Interval (3.6 s at 1 s).
	start := time.Now()
	b := startHost(t, 2, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 100, initial)}})
	eventually(t, "b master at once", func() bool { return b.state("vi") == master })
	if took := time.Since(start); took > time.Second {
		t.Errorf("initial master took %v", took)
	}
	if s := b.status("vi"); len(s.Transitions) != 1 || s.Transitions[0].From != "Initialize" || s.Transitions[0].Reason != string(vrrp.ReasonInitialMaster) {
		t.Errorf("b transitions %+v", s.Transitions)
	}
	// A higher-priority router preempts it by the normal rules.
	a := startHost(t, 1, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 200, func(ic *InstanceConfig) { ic.AdvertInterval = time.Second })}})
	eventually(t, "a preempts b", func() bool { return a.state("vi") == master && b.state("vi") == backup })
	// A lower-priority initial master joining a running master steps down
	// when it hears it.
	c := startHost(t, 3, segs, Config{Instances: []InstanceConfig{inst("vi", 1, 50, initial)}})
	eventually(t, "c backup", func() bool {
		s := c.status("vi")
		return s.State == backup && s.Transitions[len(s.Transitions)-1].Reason == string(vrrp.ReasonHigherPriority)
	})
	if a.state("vi") != master {
		t.Errorf("a is %s", a.state("vi"))
	}
}
