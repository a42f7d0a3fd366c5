package state

import (
	"fmt"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// HistorySize is how many transitions a Tracker remembers.
const HistorySize = 16

// FlapWindow is the period over which transitions count as flaps.
const FlapWindow = 10 * time.Minute

// Timing is the part of a check spec the state follows.
type Timing struct {
	Rise    int // consecutive passes that bring a down probe up
	Fall    int // consecutive failures that take an up probe down
	Retries int // extra attempts before a failure of an up probe counts
}

// TimingOf returns the timing of spec (which must have its defaults).
func TimingOf(spec health.Spec) Timing {
	return Timing{Rise: spec.Rise, Fall: spec.Fall, Retries: spec.Retries}
}

// Transition is one change of state.
type Transition struct {
	At     time.Time
	Up     bool   // the new state
	Reason string // e.g. "3 failed checks, last: HTTP 503 from 10.0.0.11:80 in 12 ms"
}

// Decision is what the scheduler does after an attempt.
type Decision int

// Decisions.
const (
	Done  Decision = iota // the round is over: next attempt at the next interval
	Retry                 // run another attempt after the retry delay
)

// Tracker is the state of one probe. It is not safe for concurrent use.
type Tracker struct {
	timing Timing

	up          bool
	since       time.Time
	passes      int // consecutive, counted while down
	fails       int // consecutive, counted while up
	attempt     int // retries used in the current round
	last        health.Result
	lastAt      time.Time
	weight      int
	hasWeight   bool
	checks      uint64
	failed      uint64
	transitions uint64
	hist        [HistorySize]Transition
	nhist       int // total appended; the ring holds the last HistorySize
}

// New returns a tracker that starts down at now, waiting for Rise passes.
func New(t Timing, now time.Time) *Tracker {
	return &Tracker{timing: t, since: now}
}

// Inherit returns a tracker for timing t that starts in the state prev is in (up
// only if prev came up through passing checks), keeping its history, counters and
// dynamic weight; it is how a real server whose check spec changed keeps its state
// under initial "inherit". The reason is recorded in the history when the state is
// carried over.
func Inherit(t Timing, prev *Tracker, now time.Time) *Tracker {
	n := *prev
	n.timing = t
	n.passes, n.fails, n.attempt = 0, 0, 0
	n.record(Transition{At: now, Up: n.up, Reason: inheritReason})
	return &n
}

// Adopted returns a tracker for timing t that starts up at now without a passing
// check: for a real server the kernel already had in service when the daemon
// started, so that restarting the daemon does not take it out of service. It then
// behaves like any up probe: `fall` failed rounds take it down. The adoption is
// recorded in the history (and, like inheritance, not counted as a flap).
func Adopted(t Timing, now time.Time) *Tracker {
	k := &Tracker{timing: t, up: true, since: now}
	k.record(Transition{At: now, Up: true, Reason: AdoptReason})
	return k
}

// SetTiming changes rise/fall/retries in place (counters are kept).
func (k *Tracker) SetTiming(t Timing) { k.timing = t }

// Up reports the current state.
func (k *Tracker) Up() bool { return k.up }

// Weight returns the weight a misc_dynamic check last asked for.
func (k *Tracker) Weight() (int, bool) { return k.weight, k.hasWeight }

// Observe takes the result of one attempt finished at now. It returns whether to
// retry, and the transition the result caused, if any.
func (k *Tracker) Observe(now time.Time, r health.Result) (Decision, *Transition) {
	k.checks++
	k.last, k.lastAt = r, now
	if r.OK {
		k.attempt = 0
		if r.HasWeight {
			k.weight, k.hasWeight = r.Weight, true
		}
		if k.up {
			k.fails = 0
			return Done, nil
		}
		k.passes++
		if k.passes < k.timing.Rise {
			return Done, nil
		}
		return Done, k.flip(now, true, fmt.Sprintf("%s, last: %s", count(k.passes, "passed check"), r.Text))
	}
	k.failed++
	if !k.up {
		k.passes = 0
		return Done, nil
	}
	if k.attempt < k.timing.Retries {
		k.attempt++
		return Retry, nil
	}
	k.attempt = 0
	k.fails++
	if k.fails < k.timing.Fall {
		return Done, nil
	}
	return Done, k.flip(now, false, fmt.Sprintf("%s, last: %s", count(k.fails, "failed check"), r.Text))
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (k *Tracker) flip(now time.Time, up bool, reason string) *Transition {
	k.up, k.since = up, now
	k.passes, k.fails = 0, 0
	k.transitions++
	tr := Transition{At: now, Up: up, Reason: reason}
	k.record(tr)
	return &tr
}

func (k *Tracker) record(tr Transition) {
	k.hist[k.nhist%HistorySize] = tr
	k.nhist++
}

// Status is what operators see of one probe.
type Status struct {
	Up          bool
	Since       time.Time
	InState     time.Duration
	Passes      int // consecutive passes towards rise (while down)
	Fails       int // consecutive failures towards fall (while up)
	Last        health.Result
	LastAt      time.Time // zero: never checked
	Weight      int       // misc_dynamic weight, valid when HasWeight
	HasWeight   bool
	Checks      uint64 // attempts observed
	Failed      uint64 // of which failed
	Transitions uint64 // up/down changes since the probe was created
	Flaps       int    // transitions within FlapWindow before now (at most HistorySize)
	History     []Transition
}

// State names the state for humans: "up", "down" or "pending" (down, never checked).
func (s Status) State() string {
	switch {
	case s.Up:
		return "up"
	case s.LastAt.IsZero():
		return "pending"
	}
	return "down"
}

// Status returns the tracker's state as of now. History is oldest first.
func (k *Tracker) Status(now time.Time) Status {
	s := Status{
		Up: k.up, Since: k.since, InState: now.Sub(k.since),
		Passes: k.passes, Fails: k.fails,
		Last: k.last, LastAt: k.lastAt,
		Weight: k.weight, HasWeight: k.hasWeight,
		Checks: k.checks, Failed: k.failed, Transitions: k.transitions,
	}
	n := min(k.nhist, HistorySize)
	s.History = make([]Transition, 0, n)
	for i := k.nhist - n; i < k.nhist; i++ {
		tr := k.hist[i%HistorySize]
		s.History = append(s.History, tr)
		if now.Sub(tr.At) <= FlapWindow && tr.Reason != inheritReason && tr.Reason != AdoptReason {
			s.Flaps++
		}
	}
	return s
}

const inheritReason = "state inherited from the previous check spec"

// AdoptReason is the history entry of a tracker made by Adopted.
const AdoptReason = "adopted: in service in the kernel when the daemon started"
