package ipvs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvstest"
)

func batchReconcile(t *testing.T, k *ipvstest.Batching, want []ipvs.ServiceState) ipvs.Result {
	t.Helper()
	k.ResetWrites()
	k.ResetBatches()
	res, err := (&ipvs.Reconciler{Kernel: k}).Reconcile(context.Background(), want)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if res.Writes != len(k.Writes()) {
		t.Fatalf("Result.Writes = %d but the kernel saw %d writes: %q", res.Writes, len(k.Writes()), k.Writes())
	}
	return res
}

func TestBatchedReconcileServicesThenDestinations(t *testing.T) {
	k := ipvstest.NewBatching()
	res := batchReconcile(t, k, desired())
	if res.Writes != 5 || len(res.Errors) != 0 {
		t.Fatalf("writes=%d errors=%v", res.Writes, res.Errors)
	}
	if got := fmt.Sprint(k.Batches()); got != "[2 3]" {
		t.Errorf("batches %s, want [2 3]: the services, then all destinations", got)
	}
	w := k.Writes()
	if !slices.Equal(w[:2], []string{"add service udp/192.0.2.100:53", "add service tcp/192.0.2.100:80"}) {
		t.Errorf("writes %q", w)
	}
	if res := batchReconcile(t, k, desired()); res.Writes != 0 || len(k.Batches()) != 0 {
		t.Fatalf("no-op pass: %d writes, batches %v", res.Writes, k.Batches())
	}
}

func TestBatchedReconcileSkipsDestinationsOfFailedService(t *testing.T) {
	k := ipvstest.NewBatching()
	k.FailWith(func(op string, key ipvs.ServiceKey) error {
		if op == "add service" && key == dns {
			return syscall.ENOENT
		}
		return nil
	})
	res := batchReconcile(t, k, desired())
	if len(res.Errors) != 2 || !errors.Is(res.Errors[0], syscall.ENOENT) || !errors.Is(res.Errors[1], ipvs.ErrSkipped) {
		t.Fatalf("errors = %v", res.Errors)
	}
	if res.Errors[1].Op.Kind != ipvs.AddDestination || res.Errors[1].Op.Service.Key != dns {
		t.Errorf("skipped op = %s", res.Errors[1].Op)
	}
	if res.Writes != 4 || fmt.Sprint(k.Batches()) != "[2 2]" {
		t.Fatalf("writes=%d batches=%v", res.Writes, k.Batches())
	}
	if s, ok := k.Get(vip); !ok || len(s.Destinations) != 2 {
		t.Fatalf("the healthy service was not programmed: %+v", s)
	}
	k.FailWith(nil)
	batchReconcile(t, k, desired())
	if res := batchReconcile(t, k, desired()); res.Writes != 0 {
		t.Fatalf("not converged: %q", k.Writes())
	}
}

func TestBatchedReconcileEditsInPlace(t *testing.T) {
	k := ipvstest.NewBatching()
	batchReconcile(t, k, desired())
	want := desired()
	want[0].Scheduler = "wlc"
	want[0].Destinations[1].Weight = 0
	want[0].Destinations[0].UpperThreshold, want[0].Destinations[0].LowerThreshold = 100, 50
	res := batchReconcile(t, k, want)
	if got := fmt.Sprint(k.Writes()); got != "[update service tcp/192.0.2.100:80 update destination tcp/192.0.2.100:80 198.51.100.11:80 update destination tcp/192.0.2.100:80 198.51.100.12:80]" {
		t.Fatalf("writes %s", got)
	}
	if res.Writes != 3 {
		t.Fatalf("writes = %d", res.Writes)
	}
}

func TestBatchedReconcileCancelled(t *testing.T) {
	k := ipvstest.NewBatching()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := (&ipvs.Reconciler{Kernel: k}).Reconcile(ctx, desired())
	if !errors.Is(err, context.Canceled) || res.Writes != 0 || len(k.Writes()) != 0 || len(res.Errors) != 0 {
		t.Fatalf("cancelled: err=%v writes=%d errors=%v", err, res.Writes, res.Errors)
	}
}

func TestReconcileServicesTouchesOnlyTheKeys(t *testing.T) {
	for _, batching := range []bool{false, true} {
		t.Run(fmt.Sprintf("batching_%v", batching), func(t *testing.T) {
			var k ipvs.Kernel
			fake := ipvstest.New()
			k = fake
			if batching {
				b := ipvstest.NewBatching()
				fake, k = b.Fake, b
			}
			r := &ipvs.Reconciler{Kernel: k}
			ctx := context.Background()
			if _, err := r.Reconcile(ctx, desired()); err != nil {
				t.Fatal(err)
			}
			fake.Flush() // drift on both services ...
			fake.ResetWrites()
			lists := fake.Lists()
			want := desired()
			res, err := r.ReconcileServices(ctx, want, []ipvs.ServiceKey{vip}) // ... but only vip is looked at
			if err != nil {
				t.Fatal(err)
			}
			if res.Writes != 3 || fake.Lists() != lists {
				t.Fatalf("writes %q, %d full listings", fake.Writes(), fake.Lists()-lists)
			}
			if _, ok := fake.Get(dns); ok {
				t.Fatal("dns was written by a pass limited to vip")
			}
			// A key no longer desired is deleted.
			fake.ResetWrites()
			if _, err := r.ReconcileServices(ctx, want[1:], []ipvs.ServiceKey{vip}); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(fake.Writes()); got != "[delete service tcp/192.0.2.100:80]" {
				t.Fatalf("writes %s", got)
			}
		})
	}
}

func TestFakeGlobals(t *testing.T) {
	k := ipvstest.New()
	ctx := context.Background()
	var g ipvs.Globals = k
	if err := g.SetTimeouts(ctx, ipvs.Timeouts{UDP: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if to, _ := g.Timeouts(ctx); to.UDP != 30*time.Second || to.TCP != 900*time.Second {
		t.Fatalf("timeouts %+v", to)
	}
	d := ipvs.SyncDaemon{State: ipvs.SyncMaster, Interface: "eth0", SyncID: 1}
	if err := g.StartSyncDaemon(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := g.StartSyncDaemon(ctx, d); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second master: %v", err)
	}
	if err := g.StopSyncDaemon(ctx, ipvs.SyncBackup); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("stop absent backup: %v", err)
	}
	if ds, _ := g.SyncDaemons(ctx); len(ds) != 1 || ds[0] != d {
		t.Fatalf("daemons %+v", ds)
	}
}
