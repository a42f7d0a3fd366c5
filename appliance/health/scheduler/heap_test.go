package scheduler

import (
	"math/rand/v2"
	"testing"
)

// TestProbeHeap: random pushes, removals and pops keep the order (due, then seq)
// and every probe's index right.
func TestProbeHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h probeHeap
	var seq uint64
	in := map[*probe]bool{}
	check := func() {
		t.Helper()
		for i, e := range h {
			if e.p.index != i || e.due != e.p.due || e.seq != e.p.seq {
				t.Fatalf("entry %d: index %d, keys %d/%d vs probe %d/%d", i, e.p.index, e.due, e.seq, e.p.due, e.p.seq)
			}
			if i > 0 && e.before(h[(i-1)/2]) {
				t.Fatalf("entry %d sorts before its parent", i)
			}
		}
	}
	for range 5000 {
		switch op := r.IntN(4); {
		case op <= 1 || len(h) == 0:
			seq++
			p := &probe{due: r.Int64N(50), seq: seq, index: -1}
			h.push(p)
			in[p] = true
		case op == 2:
			p := h.remove(r.IntN(len(h)))
			if p.index != -1 || !in[p] {
				t.Fatalf("removed probe: index %d, known %v", p.index, in[p])
			}
			delete(in, p)
		default:
			min := h[0]
			for _, e := range h {
				if e.before(min) {
					t.Fatalf("heap top %d/%d is not the minimum (%d/%d)", min.due, min.seq, e.due, e.seq)
				}
			}
			if p := h.pop(); p != min.p {
				t.Fatal("pop did not return the top")
			}
			delete(in, min.p)
		}
		check()
		if len(h) != len(in) {
			t.Fatalf("%d entries, %d probes", len(h), len(in))
		}
	}
}
