package ipvs_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"syscall"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvstest"
)

var (
	vip = ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("192.0.2.100"), 80)
	dns = ipvs.AddrKey(ipvs.UDP, netip.MustParseAddr("192.0.2.100"), 53)
)

func rs(a string, port uint16, w int) ipvs.Destination {
	return ipvs.Destination{Key: ipvs.DestinationKey{Addr: netip.MustParseAddr(a), Port: port}, Forwarding: ipvs.NAT, Weight: w}
}

func desired() []ipvs.ServiceState {
	return []ipvs.ServiceState{
		{Service: ipvs.Service{Key: vip, Scheduler: "wrr", Netmask: 32},
			Destinations: []ipvs.Destination{rs("198.51.100.11", 80, 3), rs("198.51.100.12", 80, 1)}},
		{Service: ipvs.Service{Key: dns, Scheduler: "rr", Netmask: 32},
			Destinations: []ipvs.Destination{rs("198.51.100.11", 53, 1)}},
	}
}

func reconcile(t *testing.T, k *ipvstest.Fake, want []ipvs.ServiceState) ipvs.Result {
	t.Helper()
	k.ResetWrites()
	res, err := (&ipvs.Reconciler{Kernel: k}).Reconcile(context.Background(), want)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if res.Writes != len(k.Writes()) {
		t.Fatalf("Result.Writes = %d but the kernel saw %d writes: %q", res.Writes, len(k.Writes()), k.Writes())
	}
	return res
}

// converged checks that another pass has nothing to do.
func converged(t *testing.T, k *ipvstest.Fake, want []ipvs.ServiceState) {
	t.Helper()
	if res := reconcile(t, k, want); res.Writes != 0 || len(res.Ops) != 0 {
		t.Fatalf("not converged: %d writes %q", res.Writes, k.Writes())
	}
}

func TestReconcileFromEmptyThenNoop(t *testing.T) {
	k := ipvstest.New()
	res := reconcile(t, k, desired())
	if res.Writes != 5 || len(res.Errors) != 0 {
		t.Fatalf("initial apply: writes=%d errors=%v", res.Writes, res.Errors)
	}
	converged(t, k, desired())
}

func TestReconcileAdoptsProgrammedKernel(t *testing.T) {
	k := ipvstest.New()
	k.Seed(desired()...) // programmed by a previous daemon process
	converged(t, k, desired())
}

func TestReconcileWeightChangeIsOneUpdate(t *testing.T) {
	k := ipvstest.New()
	k.Seed(desired()...)
	want := desired()
	want[0].Destinations[1].Weight = 9
	reconcile(t, k, want)
	if got := k.Writes(); !slices.Equal(got, []string{"update destination tcp/192.0.2.100:80 198.51.100.12:80"}) {
		t.Fatalf("writes = %q", got)
	}
	converged(t, k, want)
}

func TestReconcileSchedulerChangeIsOneServiceUpdate(t *testing.T) {
	k := ipvstest.New()
	k.Seed(desired()...)
	want := desired()
	want[0].Scheduler = "lc"
	reconcile(t, k, want)
	if got := k.Writes(); !slices.Equal(got, []string{"update service tcp/192.0.2.100:80"}) {
		t.Fatalf("writes = %q", got)
	}
	s, _ := k.Get(vip)
	if s.Scheduler != "lc" || len(s.Destinations) != 2 {
		t.Fatalf("service after update = %+v", s)
	}
}

func TestReconcileAddAndRemoveReal(t *testing.T) {
	k := ipvstest.New()
	k.Seed(desired()...)
	want := desired()
	want[0].Destinations = []ipvs.Destination{rs("198.51.100.11", 80, 3), rs("198.51.100.13", 80, 1)}
	reconcile(t, k, want)
	wantWrites := []string{
		"add destination tcp/192.0.2.100:80 198.51.100.13:80",
		"delete destination tcp/192.0.2.100:80 198.51.100.12:80",
	}
	if got := k.Writes(); !slices.Equal(got, wantWrites) {
		t.Fatalf("writes = %q, want %q", got, wantWrites)
	}
	converged(t, k, want)
}

func TestReconcileRepairsDrift(t *testing.T) {
	k := ipvstest.New()
	reconcile(t, k, desired())
	k.Flush() // ipvsadm -C
	res := reconcile(t, k, desired())
	if res.Writes != 5 || len(res.Errors) != 0 {
		t.Fatalf("repair: writes=%d errors=%v", res.Writes, res.Errors)
	}
	// Someone adds a stray service and changes a weight by hand.
	stray := ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("192.0.2.99"), 22)
	k.Seed(ipvs.ServiceState{Service: ipvs.Service{Key: stray, Scheduler: "rr"}})
	s, _ := k.Get(vip)
	s.Destinations[0].Weight = 100
	k.Seed(s)
	reconcile(t, k, desired())
	want := []string{"update destination tcp/192.0.2.100:80 198.51.100.11:80", "delete service tcp/192.0.2.99:22"}
	if got := k.Writes(); !slices.Equal(got, want) {
		t.Fatalf("writes = %q, want %q", got, want)
	}
	converged(t, k, desired())
}

func TestReconcileErrorsDoNotAbortOtherObjects(t *testing.T) {
	k := ipvstest.New()
	k.FailWith(func(op string, key ipvs.ServiceKey) error {
		if op == "add service" && key == dns {
			return syscall.ENOENT // e.g. scheduler module missing
		}
		return nil
	})
	res := reconcile(t, k, desired())
	if len(res.Errors) != 2 {
		t.Fatalf("errors = %v", res.Errors)
	}
	if !errors.Is(res.Errors[0], syscall.ENOENT) || !errors.Is(res.Errors[1], ipvs.ErrSkipped) {
		t.Fatalf("errors = %v", res.Errors)
	}
	if got := res.Errors[0].Error(); got != "ipvs: add service udp/192.0.2.100:53 (rr): no such file or directory" {
		t.Errorf("error text = %q", got)
	}
	if s, ok := k.Get(vip); !ok || len(s.Destinations) != 2 {
		t.Fatalf("the healthy service was not programmed: %+v", s)
	}
	if res.Writes != 4 { // 1+2 for vip, 1 failed add for dns, its destination skipped
		t.Fatalf("writes = %d", res.Writes)
	}
	k.FailWith(nil)
	reconcile(t, k, desired())
	converged(t, k, desired())
}

func TestReconcileUnavailable(t *testing.T) {
	k := ipvstest.New()
	k.SetUnavailable(errors.New("no IPVS"))
	if _, err := (&ipvs.Reconciler{Kernel: k}).Reconcile(context.Background(), desired()); err == nil {
		t.Fatal("reconcile against an unavailable kernel succeeded")
	}
}

func TestReconcileStopsOnCancel(t *testing.T) {
	k := ipvstest.New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := (&ipvs.Reconciler{Kernel: k}).Reconcile(ctx, desired())
	if !errors.Is(err, context.Canceled) || res.Writes != 0 || len(k.Writes()) != 0 {
		t.Fatalf("cancelled reconcile: err=%v writes=%d", err, res.Writes)
	}
}
