package scheduler

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/checker"
	"github.com/lvsbox/lvsbox/appliance/health/healthtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// eventLog is an Observer keeping every event.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) Observe(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// waitFor polls cond (real time) for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// start runs s until the test ends.
func start(t *testing.T, s *Scheduler) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run: %v", err)
		}
	})
}

// settled reports whether no probe is running and the dispatcher sleeps.
func settled(s *Scheduler) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.core.probes {
		if p.running {
			return false
		}
	}
	return s.sleeping
}

// TestSchedulerSharedProbe drives the real dispatcher and worker pool with a manual
// clock: three services sharing one server make one attempt per interval, a
// transition reaches observers and Changed.
func TestSchedulerSharedProbe(t *testing.T) {
	clock := healthtest.NewClock(t0)
	ck := healthtest.NewChecker(healthtest.Pass)
	built := 0
	log := &eventLog{}
	s := New(Config{
		Clock: clock, Rand: healthtest.FixedRand{Frac: 0.5}, Workers: 4, Logger: quiet,
		NewChecker: func(health.Spec, netip.AddrPort) (checker.Checker, error) { built++; return ck, nil },
		Observers:  []Observer{log},
	})
	spec := health.Spec{Type: health.TypeTCP, Interval: time.Second, Rise: 2, Fall: 1}
	if _, err := s.Apply([]Subscription{sub("web", rs1, spec), sub("web-tls", rs1, spec), sub("api", rs1, spec)}); err != nil {
		t.Fatal(err)
	}
	<-s.Changed() // the apply
	start(t, s)
	waitFor(t, "dispatcher asleep", func() bool { return settled(s) && clock.Timers() == 1 })
	clock.Advance(500 * time.Millisecond) // the random offset: half an interval
	waitFor(t, "first attempt", func() bool { return ck.Calls() == 1 && settled(s) })
	for i := 2; i <= 10; i++ {
		clock.Advance(time.Second)
		waitFor(t, "attempt", func() bool { return ck.Calls() == i && settled(s) })
	}
	if built != 1 || ck.Calls() != 10 {
		t.Fatalf("%d checkers, %d attempts in 10 intervals; want 1 and 10", built, ck.Calls())
	}
	select {
	case <-s.Changed():
	default:
		t.Error("no Changed after the up transition")
	}
	evs := log.all()
	var ups int
	for i, e := range evs {
		if e.Lateness() != 0 {
			t.Errorf("event %d late by %v under a manual clock", i, e.Lateness())
		}
		if want := t0.Add(500*time.Millisecond + time.Duration(i)*time.Second); !e.Scheduled.Equal(want) {
			t.Errorf("event %d scheduled at %v, want %v", i, e.Scheduled.Sub(t0), want.Sub(t0))
		}
		if e.Transition != nil {
			ups++
			if len(e.Subscribers) != 3 || !e.Transition.Up || i != 1 {
				t.Errorf("transition event %d: %+v", i, e)
			}
		}
	}
	if ups != 1 {
		t.Errorf("%d transitions, want 1", ups)
	}
	for _, id := range []string{"web", "web-tls", "api"} {
		if h, _ := s.Health(id + "/" + rs1.String()); !h.Up {
			t.Errorf("%s not up", id)
		}
	}
}

// TestSchedulerRealTCP runs real TCP checks on the real clock against a loopback
// listener that goes away and comes back.
func TestSchedulerRealTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	ap := netip.MustParseAddrPort(addr)
	s := New(Config{Workers: 2, Logger: quiet})
	spec := health.Spec{Type: health.TypeTCP, Interval: 50 * time.Millisecond, Timeout: 200 * time.Millisecond, Rise: 2, Fall: 2}
	if _, err := s.Apply([]Subscription{sub("web", ap, spec)}); err != nil {
		t.Fatal(err)
	}
	start(t, s)
	id := "web/" + addr
	up := func() bool { h, _ := s.Health(id); return h.Up }
	waitFor(t, "up", up)
	l.Close()
	waitFor(t, "down", func() bool { return !up() })
	snap := s.Snapshot()
	if st := snap.Subscriptions[0]; st.State() != "down" || st.Last.Text != "connect: connection refused" {
		t.Errorf("after close: %+v", st.Status)
	}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer l.Close()
	waitFor(t, "up again", up)
	if st := s.Snapshot().Subscriptions[0]; st.Transitions != 3 || len(st.History) != 3 {
		t.Errorf("history %+v", st.History)
	}
}
