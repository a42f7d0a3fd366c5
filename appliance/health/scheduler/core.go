package scheduler

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/checker"
	"github.com/lvsbox/lvsbox/appliance/health/state"
)

// Subscription is one real server of one virtual service and its check.
type Subscription struct {
	ID      string         // unique and stable across config changes, e.g. "web/198.51.100.11:80"
	Service string         // the virtual service's name (for events and metrics)
	Server  netip.AddrPort // the real server
	Spec    health.Spec
	// Adopt says the real server was in service in the kernel (a destination with
	// weight > 0) when the daemon started. A probe created by this Apply starts up
	// (state.Adopted) if any of its subscriptions adopts, instead of down; the probe
	// then needs `fall` failed rounds to go down like any up probe. Adopt is ignored
	// for probes that already exist and for probes that inherit a state.
	Adopt bool
}

// NewChecker builds the checker of a probe.
type NewChecker func(spec health.Spec, server netip.AddrPort) (checker.Checker, error)

// probe is one distinct (target, spec) and everything that runs it.
type probe struct {
	key     health.Key
	spec    health.Spec // with defaults
	target  netip.AddrPort
	checker checker.Checker
	tracker *state.Tracker
	subs    map[string]struct{} // subscription IDs; the reference count is len(subs)

	next    time.Time // when the next attempt is due
	due     int64     // next as Unix nanoseconds: the heap's cheap ordering key
	round   time.Time // grid slot of the current round
	attempt int       // retries made in this round
	running bool      // handed out by Due, not yet Completed
	removed bool
	index   int    // in the heap, -1 when not there
	seq     uint64 // creation order, breaks ties in the heap
	skipped uint64 // rounds skipped because the previous one overran
}

// Core is the pure scheduling state. It is not safe for concurrent use.
type Core struct {
	newChecker NewChecker
	rand       health.Rand
	probes     map[health.Key]*probe
	subs       map[string]*subscription
	heap       probeHeap
	seq        uint64
}

type subscription struct {
	Subscription
	probe *probe
}

// NewCore returns an empty core.
func NewCore(nc NewChecker, r health.Rand) *Core {
	return &Core{newChecker: nc, rand: r, probes: map[health.Key]*probe{}, subs: map[string]*subscription{}}
}

// ApplyStats says what an Apply did.
type ApplyStats struct {
	Subscriptions int // after the apply
	Probes        int // after the apply
	Created       int // probes created (starting down, or inherited)
	Kept          int // probes kept with their state
	Removed       int // probes no longer used
	Inherited     int // created probes that took over a previous probe's state
	Adopted       int // created probes that start up because the kernel had them in service
}

// Apply makes subs the complete set of subscriptions at now. Probes whose key is
// unchanged keep their state and schedule; new probes start down (or inherit, see
// health.InitialInherit) with their first attempt at a random offset within one
// interval; probes nobody uses any more are dropped. On error nothing changes.
func (c *Core) Apply(now time.Time, subs []Subscription) (ApplyStats, error) {
	type planned struct {
		sub  Subscription
		spec health.Spec
		key  health.Key
	}
	plan := make([]planned, 0, len(subs))
	seen := map[string]bool{}
	var errs []error
	fresh := map[health.Key]checker.Checker{}
	for _, s := range subs {
		if s.ID == "" || seen[s.ID] {
			errs = append(errs, fmt.Errorf("health: subscription %q: empty or duplicate id", s.ID))
			continue
		}
		seen[s.ID] = true
		spec := s.Spec.WithDefaults()
		if err := spec.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("health: %s: %w", s.ID, err))
			continue
		}
		key := spec.Key(s.Server)
		plan = append(plan, planned{s, spec, key})
		if _, ok := c.probes[key]; ok {
			continue
		}
		if _, ok := fresh[key]; ok {
			continue
		}
		ck, err := c.newChecker(spec, s.Server)
		if err != nil {
			errs = append(errs, fmt.Errorf("health: %s: %w", s.ID, err))
			continue
		}
		fresh[key] = ck
	}
	if err := errors.Join(errs...); err != nil {
		return ApplyStats{}, err
	}

	var st ApplyStats
	next := make(map[health.Key]*probe, len(plan))
	created := map[health.Key]bool{}
	// inherit collects, per created probe, the previous trackers of its inheriting
	// subscribers.
	inherit := map[health.Key][]*state.Tracker{}
	newSubs := make(map[string]*subscription, len(plan))
	for _, pl := range plan {
		p, ok := next[pl.key]
		if !ok {
			if p, ok = c.probes[pl.key]; ok {
				p.subs = map[string]struct{}{}
				st.Kept++
			} else {
				p = c.newProbe(now, pl.key, pl.spec, pl.sub.Server, fresh[pl.key])
				created[pl.key] = true
				st.Created++
			}
			next[pl.key] = p
		}
		p.subs[pl.sub.ID] = struct{}{}
		newSubs[pl.sub.ID] = &subscription{Subscription: pl.sub, probe: p}
		if old, ok := c.subs[pl.sub.ID]; ok && created[pl.key] && pl.spec.Initial == health.InitialInherit && old.probe.key != pl.key {
			inherit[pl.key] = append(inherit[pl.key], old.probe.tracker)
		}
	}
	for key, prev := range inherit {
		// Up only if every inheriting subscriber's previous probe was up.
		from := prev[0]
		for _, t := range prev {
			if !t.Up() {
				from = t
				break
			}
		}
		p := next[key]
		p.tracker = state.Inherit(state.TimingOf(p.spec), from, now)
		st.Inherited++
	}
	for _, pl := range plan {
		if _, inherited := inherit[pl.key]; !pl.sub.Adopt || !created[pl.key] || inherited {
			continue
		}
		p := next[pl.key]
		if !p.tracker.Up() {
			p.tracker = state.Adopted(state.TimingOf(p.spec), now)
			st.Adopted++
		}
	}
	for key, p := range c.probes {
		if _, ok := next[key]; !ok {
			p.removed = true
			if p.index >= 0 {
				c.heap.remove(p.index)
			}
			st.Removed++
		}
	}
	c.probes, c.subs = next, newSubs
	st.Subscriptions, st.Probes = len(c.subs), len(c.probes)
	return st, nil
}

func (c *Core) newProbe(now time.Time, key health.Key, spec health.Spec, server netip.AddrPort, ck checker.Checker) *probe {
	c.seq++
	first := now.Add(time.Duration(c.rand.Int64N(int64(spec.Interval))))
	p := &probe{
		key: key, spec: spec, target: spec.Target(server), checker: ck,
		tracker: state.New(state.TimingOf(spec), now),
		subs:    map[string]struct{}{},
		next:    first, due: first.UnixNano(), round: first, index: -1, seq: c.seq,
	}
	c.heap.push(p)
	return p
}

// Job is one attempt handed out by Due.
type Job struct {
	p       *probe
	At      time.Time // when it was due
	Attempt int       // 0 for the first attempt of a round, then retries
	Checker checker.Checker
}

// Key returns the probe's identity.
func (j Job) Key() health.Key { return j.p.key }

// Due removes every probe due at now from the heap and returns their jobs (appended
// to buf). A probe is not due again until its job is Completed.
func (c *Core) Due(now time.Time, buf []Job) []Job {
	for n := now.UnixNano(); len(c.heap) > 0 && c.heap[0].due <= n; {
		p := c.heap.pop()
		p.running = true
		buf = append(buf, Job{p: p, At: p.next, Attempt: p.attempt, Checker: p.checker})
	}
	return buf
}

// NextAt returns when the earliest probe is due.
func (c *Core) NextAt() (time.Time, bool) {
	if len(c.heap) == 0 {
		return time.Time{}, false
	}
	return c.heap[0].p.next, true
}

// Completion is what one Complete did.
type Completion struct {
	Key        health.Key
	Type       health.Type
	Target     netip.AddrPort
	Transition *state.Transition // the state change the result caused, if any
	// Subscribers lists the probe's subscription IDs, filled only with a Transition.
	Subscribers []string
	Removed     bool      // the probe was dropped while the job ran: result ignored
	Next        time.Time // when the probe is due again
}

// Complete records the result of j, finished at now, and schedules the probe's next
// attempt: a retry after the retry delay, or the next round one interval after this
// round's slot. A round that overran by whole intervals skips them (counted); one
// behind by less than an interval starts at once.
func (c *Core) Complete(now time.Time, j Job, r health.Result) Completion {
	p := j.p
	p.running = false
	out := Completion{Key: p.key, Type: p.spec.Type, Target: p.target}
	if p.removed {
		out.Removed = true
		return out
	}
	d, tr := p.tracker.Observe(now, r)
	if d == state.Retry {
		p.attempt++
		p.next = now.Add(p.spec.RetryDelay)
	} else {
		p.attempt = 0
		slot := p.round.Add(p.spec.Interval)
		if behind := now.Sub(slot); behind >= p.spec.Interval {
			n := behind / p.spec.Interval
			slot = slot.Add(n * p.spec.Interval)
			p.skipped += uint64(n)
		}
		p.round = slot
		p.next = slot
		if p.next.Before(now) {
			p.next = now
		}
	}
	p.due = p.next.UnixNano()
	c.heap.push(p)
	out.Next = p.next
	if tr != nil {
		out.Transition = tr
		out.Subscribers = sortedKeys(p.subs)
	}
	return out
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
