package halfopen

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// newTestFamily is a family without sockets: enough for the in-flight table.
func newTestFamily() *family {
	return &family{inflight: map[flow]*waiter{}, rng: rand.New(rand.NewPCG(1, 2)), busy: make(chan struct{}, 1)}
}

// add registers a probe to target with deadline d (monotonic) as start does.
func (f *family) addTest(target netip.AddrPort, d int64, done Done) (flow, *waiter) {
	k := flow{server: target, local: 40000}
	w := &waiter{seq: 1, deadline: d, done: done}
	f.mu.Lock()
	f.track(k, w)
	f.mu.Unlock()
	return k, w
}

// TestExpire: only probes past their deadline fail, each once, answered probes
// are not failed later, and idle is reported when none is left.
func TestExpire(t *testing.T) {
	f := newTestFamily()
	now := monotonic()
	var timedOut []int
	target := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 80)
	}
	for i := 1; i <= 5; i++ {
		f.addTest(target(i), now+int64(i)*int64(time.Hour), func(err error, _ time.Time) {
			if err != ErrTimeout {
				t.Errorf("probe %d: %v", i, err)
			}
			timedOut = append(timedOut, i)
		})
	}
	// Probe 6 is due first but answered before the sweep.
	k, w := f.addTest(target(6), now-1, func(error, time.Time) { t.Error("answered probe failed by expire") })
	if !f.forget(k, w) {
		t.Fatal("forget")
	}
	if idle := f.expire(now); idle || len(timedOut) != 0 {
		t.Fatalf("nothing due: idle %v, timed out %v", idle, timedOut)
	}
	if idle := f.expire(now + int64(2*time.Hour) + 1); idle || len(timedOut) != 2 {
		t.Fatalf("two due: idle %v, timed out %v", idle, timedOut)
	}
	if idle := f.expire(now + int64(10*time.Hour)); !idle || len(timedOut) != 5 {
		t.Fatalf("all due: idle %v, timed out %v", idle, timedOut)
	}
	if len(f.deadlines) != 0 {
		t.Errorf("%d deadlines left", len(f.deadlines))
	}
}

// BenchmarkExpireNothingDue is one poll tick's expiry work with 10,000 probes in
// flight (say, servers that do not answer) and none due yet.
func BenchmarkExpireNothingDue(b *testing.B) {
	f := newTestFamily()
	now := monotonic()
	a := netip.MustParseAddr("198.18.0.1")
	for i := range 10000 {
		f.addTest(netip.AddrPortFrom(a, 80), now+int64(time.Hour)+int64(i), func(error, time.Time) {})
		a = a.Next()
	}
	b.ResetTimer()
	for range b.N {
		f.expire(now)
	}
}
