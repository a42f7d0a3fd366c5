package state

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ok(text string) health.Result  { return health.Result{OK: true, Text: text} }
func bad(text string) health.Result { return health.Result{Text: text} }

// feed observes results one second apart, starting at second from, and returns the
// decisions and the state after each.
func feed(k *Tracker, from int, rs ...health.Result) (ds []Decision, ups []bool) {
	for i, r := range rs {
		d, _ := k.Observe(t0.Add(time.Duration(from+i)*time.Second), r)
		ds = append(ds, d)
		ups = append(ups, k.Up())
	}
	return ds, ups
}

func TestRiseFall(t *testing.T) {
	k := New(Timing{Rise: 2, Fall: 3}, t0)
	if k.Up() {
		t.Fatal("starts up")
	}
	if got := k.Status(t0).State(); got != "pending" {
		t.Errorf("state before any check %q, want pending", got)
	}
	// A pass, a failure (resets), then two passes: up at the fourth result.
	_, ups := feed(k, 1, ok("a"), bad("b"), ok("c"), ok("d"))
	if want := []bool{false, false, false, true}; !slices.Equal(ups, want) {
		t.Fatalf("rise: %v, want %v", ups, want)
	}
	st := k.Status(t0.Add(10 * time.Second))
	if !st.Up || !st.Since.Equal(t0.Add(4*time.Second)) || st.InState != 6*time.Second {
		t.Errorf("status after rise: %+v", st)
	}
	if st.History[0].Reason != "2 passed checks, last: d" {
		t.Errorf("reason %q", st.History[0].Reason)
	}
	// Two failures, a pass (resets), then three failures: down at the last.
	_, ups = feed(k, 5, bad("x"), bad("y"), ok("z"), bad("1"), bad("2"), bad("HTTP 503 from 10.0.0.11:80 in 12 ms"))
	if want := []bool{true, true, true, true, true, false}; !slices.Equal(ups, want) {
		t.Fatalf("fall: %v, want %v", ups, want)
	}
	st = k.Status(t0.Add(11 * time.Second))
	if st.State() != "down" || st.Transitions != 2 || st.Flaps != 2 || len(st.History) != 2 {
		t.Errorf("status after fall: %+v", st)
	}
	if got := st.History[1].Reason; got != "3 failed checks, last: HTTP 503 from 10.0.0.11:80 in 12 ms" {
		t.Errorf("down reason %q", got)
	}
	if st.Checks != 10 || st.Failed != 6 {
		t.Errorf("checks %d failed %d, want 10 and 6", st.Checks, st.Failed)
	}
}

func TestRetries(t *testing.T) {
	k := New(Timing{Rise: 1, Fall: 2, Retries: 2}, t0)
	// While down, a failure is never retried.
	if d, _ := k.Observe(t0, bad("x")); d != Done {
		t.Fatal("retry while down")
	}
	feed(k, 1, ok("up"))
	if !k.Up() {
		t.Fatal("not up after rise 1")
	}
	// Up: a failure is retried twice before it counts; a pass during retries clears it.
	ds, ups := feed(k, 2, bad("a"), bad("b"), ok("c"))
	if want := []Decision{Retry, Retry, Done}; !slices.Equal(ds, want) || !ups[2] {
		t.Fatalf("retries then pass: %v %v", ds, ups)
	}
	// fall 2 with 2 retries: 6 failed attempts, down at the sixth.
	ds, ups = feed(k, 5, bad("1"), bad("2"), bad("3"), bad("4"), bad("5"), bad("6"))
	if want := []Decision{Retry, Retry, Done, Retry, Retry, Done}; !slices.Equal(ds, want) {
		t.Fatalf("decisions %v, want %v", ds, want)
	}
	if want := []bool{true, true, true, true, true, false}; !slices.Equal(ups, want) {
		t.Fatalf("states %v, want %v", ups, want)
	}
}

func TestDynamicWeight(t *testing.T) {
	k := New(Timing{Rise: 1, Fall: 1}, t0)
	if _, set := k.Weight(); set {
		t.Fatal("weight set before any result")
	}
	k.Observe(t0, health.Result{OK: true, Weight: 5, HasWeight: true})
	k.Observe(t0.Add(time.Second), ok("exit 0 keeps the weight"))
	if w, set := k.Weight(); w != 5 || !set {
		t.Errorf("weight %d %v, want 5 true", w, set)
	}
}

func TestHistoryRingAndFlaps(t *testing.T) {
	k := New(Timing{Rise: 1, Fall: 1}, t0)
	// 40 transitions, one a minute.
	for i := 0; i < 40; i++ {
		r := ok("p")
		if i%2 == 1 {
			r = bad("f")
		}
		k.Observe(t0.Add(time.Duration(i)*time.Minute), r)
	}
	now := t0.Add(39 * time.Minute)
	st := k.Status(now)
	if len(st.History) != HistorySize || st.Transitions != 40 {
		t.Fatalf("history %d transitions %d", len(st.History), st.Transitions)
	}
	if !st.History[HistorySize-1].At.Equal(now) || st.History[0].At != t0.Add(24*time.Minute) {
		t.Errorf("history not oldest-first over the last %d: %v .. %v", HistorySize, st.History[0].At, st.History[HistorySize-1].At)
	}
	// Within the last 10 minutes: transitions at minutes 29..39.
	if st.Flaps != 11 {
		t.Errorf("flaps %d, want 11", st.Flaps)
	}
	if st := k.Status(now.Add(time.Hour)); st.Flaps != 0 {
		t.Errorf("flaps an hour later %d, want 0", st.Flaps)
	}
}

func TestInherit(t *testing.T) {
	down := New(Timing{Rise: 1, Fall: 1}, t0)
	down.Observe(t0, bad("refused"))
	n := Inherit(Timing{Rise: 3, Fall: 1}, down, t0.Add(time.Second))
	if n.Up() {
		t.Fatal("inherit made a down server up")
	}
	// The new rise (3) applies.
	_, ups := feed(n, 2, ok("a"), ok("b"), ok("c"))
	if !slices.Equal(ups, []bool{false, false, true}) {
		t.Fatalf("rise after inherit: %v", ups)
	}
	m := Inherit(Timing{Rise: 1, Fall: 2}, n, t0.Add(10*time.Second))
	st := m.Status(t0.Add(10 * time.Second))
	if !m.Up() || !st.Since.Equal(t0.Add(4*time.Second)) {
		t.Errorf("inherit of an up probe: %+v", st)
	}
	if last := st.History[len(st.History)-1]; !strings.Contains(last.Reason, "inherited") || st.Flaps != 1 {
		t.Errorf("history %+v flaps %d", st.History, st.Flaps)
	}
	// The original is untouched.
	if n.Status(t0).Transitions != m.Status(t0).Transitions || len(n.Status(t0).History) != 2 {
		t.Error("Inherit changed its source")
	}
}

// TestAdopted: an adopted tracker starts up without a check, goes down only after
// fall failed rounds (with retries) and does not count the adoption as a flap.
func TestAdopted(t *testing.T) {
	k := Adopted(Timing{Rise: 2, Fall: 2, Retries: 1}, t0)
	st := k.Status(t0)
	if !k.Up() || st.State() != "up" || st.Flaps != 0 || len(st.History) != 1 || st.History[0].Reason != AdoptReason {
		t.Fatalf("adopted tracker: up %v, status %+v", k.Up(), st)
	}
	ds, ups := feed(k, 1, bad("a"), bad("b"), ok("c"), bad("d"), bad("e"), bad("f"), bad("g"))
	if want := []Decision{Retry, Done, Done, Retry, Done, Retry, Done}; !slices.Equal(ds, want) {
		t.Errorf("decisions %v, want %v", ds, want)
	}
	if want := []bool{true, true, true, true, true, true, false}; !slices.Equal(ups, want) {
		t.Errorf("states %v, want %v (down after 2 failed rounds)", ups, want)
	}
	if st := k.Status(t0.Add(10 * time.Second)); st.Flaps != 1 || st.Transitions != 1 {
		t.Errorf("flaps %d transitions %d, want 1 and 1", st.Flaps, st.Transitions)
	}
}
