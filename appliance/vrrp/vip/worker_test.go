package vip_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip/viptest"
)

func newFakeKernel() *viptest.Kernel {
	return viptest.NewKernel("eth0", net.HardwareAddr{2, 0, 0, 0, 0, 2}, "192.0.2.2/24", "fe80::2/64")
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func startWorker(t *testing.T, spec vip.Spec, k vip.Kernel, a vip.Announcer) *vip.Worker {
	t.Helper()
	w, err := vip.NewWorker(spec, k, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go w.Run(ctx)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = w.Close(cctx)
		cancel()
	})
	return w
}

func TestWorkerMasterBackup(t *testing.T) {
	k, a := newFakeKernel(), &viptest.Announcer{}
	// A leftover of a crash: the backup state at start removes it.
	if err := k.AddAddr(2, netip.MustParsePrefix("192.0.2.100/32")); err != nil {
		t.Fatal(err)
	}
	spec := vip.Spec{Interface: "eth0",
		VIPs:     []netip.Prefix{netip.MustParsePrefix("192.0.2.100/24"), netip.MustParsePrefix("2001:db8::100/64")},
		Routes:   []vip.Route{{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1")}},
		Announce: vip.Announce{Count: 3, Spacing: 20 * time.Millisecond, Refresh: 0}}
	w := startWorker(t, spec, k, a)
	eventually(t, "leftover removed", func() bool { return !k.Has("eth0", "192.0.2.100/32") })

	w.SetMaster(true)
	eventually(t, "VIPs added", func() bool { return k.Has("eth0", "192.0.2.100/24") && k.Has("eth0", "2001:db8::100/64") })
	eventually(t, "3 announce rounds", func() bool { return a.Count() == 6 })
	time.Sleep(60 * time.Millisecond)
	if a.Count() != 6 {
		t.Fatalf("more than 3 rounds without refresh: %d", a.Count())
	}
	sent, at := a.Sent()
	if sent[0] != "garp 2 02:00:00:00:00:02 192.0.2.100" || sent[1] != "na 2 02:00:00:00:00:02 fe80::2 2001:db8::100" {
		t.Errorf("first round %q", sent[:2])
	}
	if gap := at[2].Sub(at[0]); gap < 20*time.Millisecond {
		t.Errorf("rounds %v apart, want >= 20ms", gap)
	}
	if r := k.Routes(); len(r) != 1 || r[0] != "203.0.113.0/24 via 192.0.2.1" {
		t.Errorf("routes %v", r)
	}
	// Split brain: a fresh burst on request.
	w.Announce()
	eventually(t, "fresh burst", func() bool { return a.Count() == 12 })

	w.SetMaster(false)
	eventually(t, "VIPs removed", func() bool { return !k.Has("eth0", "192.0.2.100/24") && !k.Has("eth0", "2001:db8::100/64") })
	if r := k.Routes(); len(r) != 0 {
		t.Errorf("route left: %v", r)
	}
	if st := w.Status(); st.Master || !st.Applied || st.Err != "" || st.Announcements != 6 {
		t.Errorf("status %+v", st)
	}
}

func TestWorkerRefreshAndRetry(t *testing.T) {
	k, a := newFakeKernel(), &viptest.Announcer{}
	k.FailAdd(errors.New("boom"))
	spec := vip.Spec{Interface: "eth0", VIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.100/32")},
		Announce: vip.Announce{Count: 1, Refresh: 30 * time.Millisecond}}
	w := startWorker(t, spec, k, a)
	w.SetMaster(true)
	eventually(t, "error reported", func() bool { return w.Status().Err != "" })
	k.FailAdd(nil)
	eventually(t, "retry succeeded", func() bool { return k.Has("eth0", "192.0.2.100/32") && w.Status().Applied })
	eventually(t, "refreshes", func() bool { return a.Count() >= 3 })
}

func TestWorkerVMAC(t *testing.T) {
	k, a := newFakeKernel(), &viptest.Announcer{}
	vm := net.HardwareAddr{0, 0, 0x5e, 0, 2, 7}
	spec := vip.Spec{Interface: "eth0", VIPs: []netip.Prefix{netip.MustParsePrefix("2001:db8::100/64")},
		VMAC: &vip.VMAC{Name: "vrrp6.7", Parent: "eth0", MAC: vm, IPv6: true}, Announce: vip.Announce{Count: 1}}
	w := startWorker(t, spec, k, a)
	w.SetMaster(true)
	eventually(t, "VIP on the vip.VMAC interface", func() bool { return k.Has("vrrp6.7", "2001:db8::100/64") })
	eventually(t, "NA from the vip.VMAC", func() bool { return a.Count() == 1 })
	if sent, _ := a.Sent(); sent[0] != "na 11 00:00:5e:00:02:07 fe80::2 2001:db8::100" {
		t.Errorf("sent %q", sent)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Link("vrrp6.7"); !errors.Is(err, vip.ErrNoLink) {
		t.Errorf("vip.VMAC interface left after Close: %v", err)
	}
}

func TestSpecValidate(t *testing.T) {
	bad := []vip.Spec{
		{},
		{Interface: "eth0", VIPs: []netip.Prefix{{}}},
		{Interface: "eth0", Routes: []vip.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("2001:db8::1")}}},
		{Interface: "eth0", VMAC: &vip.VMAC{Name: "averyveryverylongname", Parent: "eth0", MAC: make(net.HardwareAddr, 6)}},
		{Interface: "eth0", Announce: vip.Announce{Count: -1}},
	}
	for i, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("spec %d accepted", i)
		}
	}
}
