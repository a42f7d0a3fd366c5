package scheduler

// probeHeap is a binary min-heap of probes ordered by due time, then creation
// order. The keys live in the entries, not behind the probe pointers: with ten
// thousand probes, every comparison would otherwise be a cache miss. Each probe
// knows its index (-1 when not in the heap).
type probeHeap []heapEntry

type heapEntry struct {
	due int64  // probe.due
	seq uint64 // probe.seq
	p   *probe
}

func (e heapEntry) before(o heapEntry) bool {
	return e.due < o.due || (e.due == o.due && e.seq < o.seq)
}

func (h *probeHeap) push(p *probe) {
	*h = append(*h, heapEntry{due: p.due, seq: p.seq, p: p})
	p.index = len(*h) - 1
	h.up(p.index)
}

// pop removes and returns the earliest probe.
func (h *probeHeap) pop() *probe {
	return h.remove(0)
}

// remove removes and returns the probe at index i.
func (h *probeHeap) remove(i int) *probe {
	old := *h
	p := old[i].p
	last := len(old) - 1
	if i != last {
		h.set(i, old[last])
	}
	old[last] = heapEntry{}
	*h = old[:last]
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
	p.index = -1
	return p
}

func (h probeHeap) set(i int, e heapEntry) {
	h[i] = e
	e.p.index = i
}

func (h probeHeap) up(i int) {
	e := h[i]
	for i > 0 {
		parent := (i - 1) / 2
		if !e.before(h[parent]) {
			break
		}
		h.set(i, h[parent])
		i = parent
	}
	h.set(i, e)
}

// down sifts the entry at i down and reports whether it moved.
func (h probeHeap) down(i0 int) bool {
	e, i, n := h[i0], i0, len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].before(h[c]) {
			c = r
		}
		if !h[c].before(e) {
			break
		}
		h.set(i, h[c])
		i = c
	}
	h.set(i, e)
	return i > i0
}
