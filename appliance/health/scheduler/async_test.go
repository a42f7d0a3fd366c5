package scheduler

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/checker"
	"github.com/lvsbox/lvsbox/appliance/health/healthtest"
)

// asyncChecker is a checker.AsyncChecker whose attempts the test completes.
type asyncChecker struct {
	mu      sync.Mutex
	pending []func(health.Result)
	checks  int // synchronous Check calls (must stay 0)
}

func (a *asyncChecker) Check(context.Context) health.Result {
	a.mu.Lock()
	a.checks++
	a.mu.Unlock()
	return healthtest.Fail
}

func (a *asyncChecker) Start(done func(health.Result)) {
	a.mu.Lock()
	a.pending = append(a.pending, done)
	a.mu.Unlock()
}

// complete finishes every pending attempt with r, from another goroutine (as the
// half-open prober's poll loop does), and returns how many there were.
func (a *asyncChecker) complete(r health.Result) int {
	a.mu.Lock()
	p := a.pending
	a.pending = nil
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, done := range p {
		wg.Add(1)
		go func() { defer wg.Done(); done(r) }()
	}
	wg.Wait()
	return len(p)
}

func (a *asyncChecker) started() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}

// blockingChecker holds its worker until released.
type blockingChecker struct{ release chan struct{} }

func (b blockingChecker) Check(ctx context.Context) health.Result {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return healthtest.Pass
}

// TestSchedulerAsync: attempts of an AsyncChecker are started by the dispatcher
// without a worker (the only worker is held by a synchronous check), one attempt
// per probe at a time, their results count like any other, and the next round is
// scheduled from the completion.
func TestSchedulerAsync(t *testing.T) {
	clock := healthtest.NewClock(t0)
	ac := &asyncChecker{}
	blk := blockingChecker{release: make(chan struct{})}
	defer close(blk.release)
	log := &eventLog{}
	rs2 := netip.MustParseAddrPort("198.51.100.12:80")
	s := New(Config{
		Clock: clock, Rand: healthtest.FixedRand{Frac: 0}, Workers: 1, Logger: quiet, Observers: []Observer{log},
		NewChecker: func(spec health.Spec, server netip.AddrPort) (checker.Checker, error) {
			if server == rs2 {
				return blk, nil
			}
			return ac, nil
		},
	})
	spec := health.Spec{Type: health.TypeTCP, Interval: time.Second, Rise: 2, Fall: 1, TCP: &health.TCPSpec{HalfOpen: true}}
	if _, err := s.Apply([]Subscription{sub("web", rs1, spec), sub("api", rs1, spec), sub("slow", rs2, spec)}); err != nil {
		t.Fatal(err)
	}
	start(t, s)
	// Both probes are due at once (offset 0): the blocking one takes the only worker.
	waitFor(t, "async attempt started", func() bool { return ac.started() == 1 })
	clock.Advance(3 * time.Second) // rounds pass while the attempt is in flight: no second start
	time.Sleep(20 * time.Millisecond)
	if n := ac.started(); n != 1 {
		t.Fatalf("%d attempts of one probe in flight", n)
	}
	for round := 1; round <= 2; round++ {
		if n := ac.complete(healthtest.Pass); n != 1 {
			t.Fatalf("round %d: %d attempts pending", round, n)
		}
		clock.Advance(time.Second)
		waitFor(t, "next attempt", func() bool { return ac.started() == 1 })
	}
	if h, _ := s.Health("web/" + rs1.String()); !h.Up {
		t.Errorf("not up after rise=2 passing async attempts: %+v", h)
	}
	if ac.checks != 0 {
		t.Errorf("%d synchronous Check calls of an async checker", ac.checks)
	}
	var async int
	for _, e := range log.all() {
		if e.Target == rs1 {
			async++
			if e.Started.Before(e.Scheduled) {
				t.Errorf("event started %v before it was due", e.Scheduled.Sub(e.Started))
			}
		}
	}
	if async != 2 {
		t.Errorf("%d events of the async probe, want 2", async)
	}
}
