package scheduler

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/checker"
	"github.com/lvsbox/lvsbox/appliance/health/healthtest"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// world simulates a Core with instant checks whose results come from results
// (keyed by target; default pass).
type world struct {
	t       *testing.T
	core    *Core
	now     time.Time
	results map[netip.AddrPort]health.Result
	jobs    map[netip.AddrPort]int // attempts per target
	built   int                    // checkers built
}

func newWorld(t *testing.T, r health.Rand) *world {
	w := &world{t: t, now: t0, results: map[netip.AddrPort]health.Result{}, jobs: map[netip.AddrPort]int{}}
	w.core = NewCore(func(spec health.Spec, server netip.AddrPort) (checker.Checker, error) {
		w.built++
		return healthtest.NewChecker(healthtest.Pass), nil
	}, r)
	return w
}

func (w *world) apply(subs ...Subscription) ApplyStats {
	w.t.Helper()
	st, err := w.core.Apply(w.now, subs)
	if err != nil {
		w.t.Fatalf("apply: %v", err)
	}
	return st
}

// run advances time to now+d in 10 ms steps, completing every due job at once.
func (w *world) run(d time.Duration) {
	end := w.now.Add(d)
	for ; !w.now.After(end); w.now = w.now.Add(10 * time.Millisecond) {
		for _, j := range w.core.Due(w.now, nil) {
			target := j.p.target
			w.jobs[target]++
			r, ok := w.results[target]
			if !ok {
				r = healthtest.Pass
			}
			w.core.Complete(w.now, j, r)
		}
	}
	w.now = end
}

func (w *world) up(id string) bool {
	w.t.Helper()
	h, ok := w.core.Health(id)
	if !ok {
		w.t.Fatalf("no subscription %s", id)
	}
	return h.Up
}

var (
	rs1  = netip.MustParseAddrPort("198.51.100.11:80")
	rs2  = netip.MustParseAddrPort("198.51.100.12:80")
	http = health.Spec{Type: health.TypeHTTP, Interval: time.Second, Rise: 2, Fall: 2, HTTP: &health.HTTPSpec{Path: "/health"}}
)

func sub(service string, server netip.AddrPort, spec health.Spec) Subscription {
	return Subscription{ID: service + "/" + server.String(), Service: service, Server: server, Spec: spec}
}

// TestDedup: three services sharing one real server and check make one probe, and
// one attempt per interval.
func TestDedup(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	st := w.apply(sub("web", rs1, http), sub("web-tls", rs1, http), sub("api", rs1, http), sub("web", rs2, http))
	if st.Probes != 2 || st.Subscriptions != 4 || st.Created != 2 || w.built != 2 {
		t.Fatalf("apply: %+v, built %d; want 2 probes for 4 subscriptions", st, w.built)
	}
	w.run(10*time.Second - time.Millisecond)
	if got := w.jobs[rs1]; got != 10 {
		t.Errorf("shared server: %d attempts in 10 intervals, want 10", got)
	}
	for _, id := range []string{"web/" + rs1.String(), "web-tls/" + rs1.String(), "api/" + rs1.String()} {
		if !w.up(id) {
			t.Errorf("%s not up", id)
		}
	}
	snap := w.core.Snapshot(w.now)
	if len(snap.Probes) != 2 || len(snap.Probes[0].Subscribers) != 3 || snap.Subscriptions[0].Shared != 3 {
		t.Errorf("snapshot: %+v", snap.Probes)
	}
}

func TestDedupKeyRules(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	onPort := func(port int, initial health.Initial) health.Spec {
		s := http
		s.Port, s.Initial = port, initial
		return s
	}
	other := http
	other.HTTP = &health.HTTPSpec{Path: "/other"}
	st := w.apply(
		// Different service ports, same check port override: one target, one probe.
		sub("a", netip.MustParseAddrPort("198.51.100.11:80"), onPort(8080, "")),
		sub("b", netip.MustParseAddrPort("198.51.100.11:443"), onPort(8080, health.InitialInherit)),
		// Another path: another probe.
		sub("c", rs1, other),
		// icmp ignores ports.
		sub("d", netip.MustParseAddrPort("198.51.100.11:80"), health.Spec{Type: health.TypeICMP}),
		sub("e", netip.MustParseAddrPort("198.51.100.11:443"), health.Spec{Type: health.TypeICMP}),
	)
	if st.Probes != 3 {
		t.Errorf("%d probes, want 3 (port override shared, other path, icmp shared)", st.Probes)
	}
}

func TestInitialOffsetSpread(t *testing.T) {
	w := newWorld(t, rand.New(rand.NewPCG(1, 2)))
	var subs []Subscription
	for i := range 200 {
		subs = append(subs, sub("s", netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i / 250), byte(i%250 + 1)}), 80), http))
	}
	w.apply(subs...)
	var buckets [10]int
	for _, p := range w.core.probes {
		off := p.next.Sub(t0)
		if off < 0 || off >= time.Second {
			t.Fatalf("first attempt at +%v, outside [0, interval)", off)
		}
		buckets[off/(100*time.Millisecond)]++
	}
	for i, n := range buckets {
		if n == 0 || n > 60 {
			t.Errorf("offset bucket %d holds %d of 200 probes: not spread (%v)", i, n, buckets)
		}
	}
}

func TestReloadKeepsState(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	a := sub("web", rs1, http)
	w.apply(a)
	w.run(3 * time.Second)
	if !w.up(a.ID) {
		t.Fatal("not up after rise")
	}
	before := w.core.Snapshot(w.now).Probes[0]
	// Same spec again (the service gained a description, Initial changed): kept.
	a2 := a
	a2.Spec.Initial = health.InitialInherit
	st := w.apply(a2, sub("api", rs1, http))
	if st.Kept != 1 || st.Created != 0 || !w.up(a.ID) || !w.up("api/"+rs1.String()) {
		t.Fatalf("reload with the same spec: %+v, up %v", st, w.up(a.ID))
	}
	after := w.core.Snapshot(w.now).Probes[0]
	if !after.Since.Equal(before.Since) || after.Checks != before.Checks || !after.Next.Equal(before.Next) {
		t.Errorf("state or schedule changed across reload: %+v -> %+v", before.Status, after.Status)
	}
	// A changed spec (default initial down): a new probe that must pass rise checks.
	changed := http
	changed.HTTP = &health.HTTPSpec{Path: "/v2/health"}
	st = w.apply(sub("web", rs1, changed))
	if st.Created != 1 || st.Removed != 1 || w.up(a.ID) {
		t.Fatalf("changed spec: %+v, up %v; want a new probe starting down", st, w.up(a.ID))
	}
	w.run(3 * time.Second)
	if !w.up(a.ID) {
		t.Error("new probe did not come up")
	}
}

// TestReloadNeverReenablesFailed: once down, no reload (same spec, changed spec with
// initial down or inherit, removal and re-add) brings the server back without
// passing checks.
func TestReloadNeverReenablesFailed(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	a := sub("web", rs1, http)
	w.apply(a)
	w.run(3 * time.Second)
	w.results[rs1] = healthtest.Fail
	w.run(3 * time.Second)
	if w.up(a.ID) {
		t.Fatal("still up after fall")
	}
	check := func(what string) {
		t.Helper()
		if w.up(a.ID) {
			t.Fatalf("%s re-enabled a failed server", what)
		}
		w.run(5 * time.Second) // still failing
		if w.up(a.ID) {
			t.Fatalf("%s: up while every check fails", what)
		}
	}
	w.apply(a)
	check("reload, same spec")
	inh := http
	inh.Initial = health.InitialInherit
	inh.Rise = 3
	st := w.apply(sub("web", rs1, inh))
	if st.Inherited != 1 {
		t.Errorf("inherit: %+v", st)
	}
	check("reload, changed spec, initial inherit")
	down := http
	down.Fall = 5
	w.apply(sub("web", rs1, down))
	check("reload, changed spec, initial down")
	w.apply()
	w.apply(a)
	check("remove and re-add")
	// It comes back only through passing checks.
	delete(w.results, rs1)
	w.run(900 * time.Millisecond)
	if w.up(a.ID) {
		t.Fatal("up after a single pass with rise 2")
	}
	w.run(2 * time.Second)
	if !w.up(a.ID) {
		t.Fatal("not up after passing checks")
	}
}

func TestInheritUp(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	inh := http
	inh.Initial = health.InitialInherit
	w.apply(sub("web", rs1, inh))
	w.run(3 * time.Second)
	inh2 := inh
	inh2.Interval = 2 * time.Second
	st := w.apply(sub("web", rs1, inh2))
	if st.Inherited != 1 || !w.up("web/"+rs1.String()) {
		t.Fatalf("inherit of an up server: %+v", st)
	}
	// Two subscribers moving onto one new probe: one was down, so it starts down.
	w2 := newWorld(t, healthtest.FixedRand{})
	w2.results[rs2] = healthtest.Fail
	w2.apply(sub("a", rs1, inh), Subscription{ID: "b", Server: rs2, Spec: inh})
	w2.run(3 * time.Second)
	merged := inh
	merged.Address = netip.MustParseAddr("198.51.100.20")
	w2.apply(sub("a", rs1, merged), Subscription{ID: "b", Server: rs2, Spec: merged})
	if w2.up("a/"+rs1.String()) || w2.up("b") {
		t.Error("merged probe inherited up although one previous probe was down")
	}
}

func TestRetrySchedule(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	spec := http
	spec.Rise, spec.Fall, spec.Retries, spec.RetryDelay = 1, 1, 2, 200*time.Millisecond
	w.apply(sub("web", rs1, spec))
	jobs := w.core.Due(t0, nil)
	w.core.Complete(t0, jobs[0], healthtest.Pass)
	// Round 2 at +1s fails: retries at +1.2s and +1.4s, then down.
	at := t0.Add(time.Second)
	var attempts []time.Time
	for i := 0; i < 3; i++ {
		jobs = w.core.Due(at, nil)
		if len(jobs) != 1 || jobs[0].Attempt != i {
			t.Fatalf("attempt %d at %v: jobs %+v", i, at.Sub(t0), jobs)
		}
		attempts = append(attempts, jobs[0].At)
		c := w.core.Complete(at, jobs[0], healthtest.Fail)
		if (i < 2) != (c.Transition == nil) {
			t.Fatalf("attempt %d: transition %+v", i, c.Transition)
		}
		at = c.Next
	}
	if attempts[1].Sub(t0) != 1200*time.Millisecond || attempts[2].Sub(t0) != 1400*time.Millisecond {
		t.Errorf("retry times %v", attempts)
	}
	// The next round keeps the grid: +2s.
	if at.Sub(t0) != 2*time.Second {
		t.Errorf("next round at +%v, want +2s", at.Sub(t0))
	}
}

func TestOverrun(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	w.apply(sub("web", rs1, http))
	j := w.core.Due(t0, nil)[0]
	// The attempt took 2.5 intervals: the +1s round is skipped, the +2s one starts
	// at once (late), then the grid resumes.
	c := w.core.Complete(t0.Add(2500*time.Millisecond), j, healthtest.Pass)
	if !c.Next.Equal(t0.Add(2500 * time.Millisecond)) {
		t.Errorf("next at +%v, want +2.5s", c.Next.Sub(t0))
	}
	c = w.core.Complete(t0.Add(2600*time.Millisecond), w.core.Due(c.Next, nil)[0], healthtest.Pass)
	if !c.Next.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("then at +%v, want back on the grid at +3s", c.Next.Sub(t0))
	}
	if p := w.core.Snapshot(t0).Probes[0]; p.Skipped != 1 {
		t.Errorf("skipped %d, want 1", p.Skipped)
	}
}

func TestRemovedWhileRunning(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	w.apply(sub("web", rs1, http))
	j := w.core.Due(t0, nil)[0]
	w.apply()
	if c := w.core.Complete(t0, j, healthtest.Pass); !c.Removed {
		t.Error("completion of a removed probe not flagged")
	}
	if _, ok := w.core.NextAt(); ok {
		t.Error("removed probe still scheduled")
	}
}

func TestApplyErrorsAreAtomic(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	w.apply(sub("web", rs1, http))
	bad := http
	bad.Rise = -1
	_, err := w.core.Apply(t0, []Subscription{sub("web", rs2, http), sub("api", rs1, bad), sub("api", rs1, http)})
	if err == nil || !strings.Contains(err.Error(), "rise") || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("err %v, want rise and duplicate problems", err)
	}
	if subs, probes := w.core.Len(); subs != 1 || probes != 1 {
		t.Errorf("failed apply changed the core: %d subscriptions, %d probes", subs, probes)
	}
}

// TestAdopt: a probe created with an adopting subscription starts up; existing
// probes, inherited probes and later applies ignore Adopt; an adopted probe still
// goes down after fall failed rounds.
func TestAdopt(t *testing.T) {
	w := newWorld(t, healthtest.FixedRand{})
	a := sub("web", rs1, http)
	a.Adopt = true
	b := sub("web", rs2, http) // not in the kernel: starts down
	st := w.apply(a, b, sub("api", rs1, http))
	if st.Adopted != 1 || !w.up(a.ID) || !w.up("api/"+rs1.String()) || w.up(b.ID) {
		t.Fatalf("first apply: %+v; up rs1 %v, rs2 %v", st, w.up(a.ID), w.up(b.ID))
	}
	w.results[rs1] = healthtest.Fail
	w.run(time.Second - time.Millisecond) // one failed round of fall 2
	if !w.up(a.ID) {
		t.Fatal("adopted server down after one failed round")
	}
	w.run(time.Second)
	if w.up(a.ID) {
		t.Fatal("adopted server still up after fall failed rounds")
	}
	// Adopt on an existing probe changes nothing.
	if st := w.apply(a, b); st.Adopted != 0 || w.up(a.ID) {
		t.Fatalf("re-apply with adopt: %+v, up %v", st, w.up(a.ID))
	}
	// Adopt on a probe that inherits is ignored: it takes the previous state.
	inh := http
	inh.Initial, inh.Rise = health.InitialInherit, 3
	a2 := sub("web", rs1, inh)
	a2.Adopt = true
	if st := w.apply(a2, b); st.Inherited != 1 || st.Adopted != 0 || w.up(a.ID) {
		t.Fatalf("inherit with adopt: %+v, up %v", st, w.up(a.ID))
	}
}
