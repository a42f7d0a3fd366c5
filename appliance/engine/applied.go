package engine

import (
	"context"
	"sync"
)

// appliedGate records the revision of the last completed pass so that other
// parts (the VRRP integration) can wait until the IPVS table of a revision
// is in place before they act on it.
type appliedGate struct {
	mu   sync.Mutex
	done bool          // a pass has completed
	rev  uint64        // its revision
	ch   chan struct{} // closed and replaced after every completed pass
}

// passed records a completed pass of revision rev.
func (g *appliedGate) passed(rev uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.done, g.rev = true, rev
	if g.ch != nil {
		close(g.ch)
	}
	g.ch = make(chan struct{})
}

// WaitApplied blocks until a pass of revision rev (or a newer one) has
// completed -- its IPVS reconcile included, whether the kernel accepted every
// write or IPVS was unavailable (see Status) -- or ctx ends.
func (e *Engine) WaitApplied(ctx context.Context, rev uint64) error {
	g := &e.gate
	for {
		g.mu.Lock()
		if g.done && g.rev >= rev {
			g.mu.Unlock()
			return nil
		}
		if g.ch == nil {
			g.ch = make(chan struct{})
		}
		ch := g.ch
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
