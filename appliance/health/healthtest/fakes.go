package healthtest

import (
	"context"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// Clock is a manual health.Clock: time moves only with Advance, which fires the
// timers that came due.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*timer]struct{}
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t, timers: map[*timer]struct{}{}} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and fires due timers.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	for t := range c.timers {
		if !t.at.After(now) {
			delete(c.timers, t)
			t.fire(now)
		}
	}
	c.mu.Unlock()
}

// Timers returns how many timers are armed.
func (c *Clock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// NewTimer returns a timer firing d from now.
func (c *Clock) NewTimer(d time.Duration) health.Timer {
	t := &timer{c: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

type timer struct {
	c  *Clock
	ch chan time.Time
	at time.Time
}

func (t *timer) C() <-chan time.Time { return t.ch }

// fire delivers now unless a value is pending; called with c.mu held.
func (t *timer) fire(now time.Time) {
	select {
	case t.ch <- now:
	default:
	}
}

// Reset re-arms the timer, discarding a pending value (Go 1.23 timer semantics).
func (t *timer) Reset(d time.Duration) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drain()
	t.at = t.c.now.Add(d)
	if d <= 0 {
		delete(t.c.timers, t)
		t.fire(t.c.now)
		return
	}
	t.c.timers[t] = struct{}{}
}

// Stop disarms the timer and discards a pending value.
func (t *timer) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	delete(t.c.timers, t)
	t.drain()
}

func (t *timer) drain() {
	select {
	case <-t.ch:
	default:
	}
}

// FixedRand returns Frac of n from Int64N (0 <= Frac < 1): deterministic offsets.
type FixedRand struct{ Frac float64 }

// Int64N returns int64(Frac * n).
func (r FixedRand) Int64N(n int64) int64 { return int64(r.Frac * float64(n)) }

// Checker is a scripted checker.Checker: it returns its current result and counts
// calls. Safe for concurrent use.
type Checker struct {
	mu     sync.Mutex
	result health.Result
	calls  int
	called chan struct{}
}

// NewChecker returns a checker answering r.
func NewChecker(r health.Result) *Checker {
	return &Checker{result: r, called: make(chan struct{}, 1024)}
}

// Check returns the current result.
func (c *Checker) Check(context.Context) health.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	select {
	case c.called <- struct{}{}:
	default:
	}
	return c.result
}

// Set changes the result of later calls.
func (c *Checker) Set(r health.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.result = r
}

// Calls returns how many times Check ran.
func (c *Checker) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Pass and Fail are ready-made results.
var (
	Pass = health.Result{OK: true, Latency: time.Millisecond, Text: "fake pass"}
	Fail = health.Result{Latency: time.Millisecond, Text: "connect: connection refused"}
)
