package engine

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvstest"
)

func TestPlannerListsWritesWithoutMakingThem(t *testing.T) {
	cfg, err := config.DecodeBytes([]byte(`{"virtual_services":[{"name":"web","address":"192.0.2.100","port":80,"scheduler":"rr",
	  "real_servers":[{"address":"192.0.2.11"},{"address":"192.0.2.12","weight":2}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	k := ipvstest.New()
	p := Planner{OpenIPVS: func() (ipvs.Kernel, error) { return k, nil }}
	got, err := p.Plan(context.Background(), cfg)
	want := []string{
		"add service tcp/192.0.2.100:80 (rr)",
		"add destination 192.0.2.11:80 to tcp/192.0.2.100:80 (dr, weight 1)",
		"add destination 192.0.2.12:80 to tcp/192.0.2.100:80 (dr, weight 2)",
	}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("plan from empty = %q, %v", got, err)
	}
	if len(k.Writes()) != 0 {
		t.Fatalf("planner wrote %v", k.Writes())
	}
	// Once applied, the same configuration plans nothing; a weight change is one update.
	if _, err := (&ipvs.Reconciler{Kernel: k}).Reconcile(context.Background(), Compile(cfg).IPVS); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Plan(context.Background(), cfg); len(got) != 0 {
		t.Fatalf("converged plan = %q", got)
	}
	w := 5
	cfg.VirtualServices[0].RealServers[0].Weight = &w
	if got, _ := p.Plan(context.Background(), cfg); !slices.Equal(got, []string{"update destination 192.0.2.11:80 of tcp/192.0.2.100:80 (weight 1->5)"}) {
		t.Fatalf("weight plan = %q", got)
	}
	p.OpenIPVS = func() (ipvs.Kernel, error) { return nil, errors.New("ipvs: IPVS is not available") }
	if _, err := p.Plan(context.Background(), cfg); err == nil {
		t.Fatal("no error without IPVS")
	}
}

func TestKickPassesAtOnce(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	e := b.daemon()
	e.o.Resync = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitPasses := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); e.Status().Passes < n; {
			if time.Now().After(deadline) {
				t.Fatalf("passes = %d, want %d", e.Status().Passes, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitPasses(1)
	e.Kick()
	e.Kick() // coalesces
	waitPasses(2)
	time.Sleep(50 * time.Millisecond)
	if p := e.Status().Passes; p > 3 {
		t.Fatalf("%d passes after two kicks", p)
	}
}
