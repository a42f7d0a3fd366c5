package supervise

import "time"

// Clock is the time source of services.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Backoff computes restart delays: Min, doubling up to Max; a run that lasted
// at least ResetAfter starts again from Min.
type Backoff struct {
	Min, Max, ResetAfter time.Duration
	next                 time.Duration
}

// DefaultBackoff is 0.5 s doubling to 30 s, reset after 60 s of running.
func DefaultBackoff() Backoff {
	return Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second, ResetAfter: 60 * time.Second}
}

// Next returns the delay before the next start, given how long the last run
// lasted (0 when it failed to start).
func (b *Backoff) Next(ran time.Duration) time.Duration {
	if b.next == 0 || (b.ResetAfter > 0 && ran >= b.ResetAfter) {
		b.next = b.Min
	}
	d := b.next
	b.next *= 2
	if b.next > b.Max {
		b.next = b.Max
	}
	if d > b.Max {
		d = b.Max
	}
	return d
}
