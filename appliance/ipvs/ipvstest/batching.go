package ipvstest

import (
	"context"
	"sync"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// Batching is a Fake that is also an ipvs.Batcher: Apply performs the ops one by one
// on the Fake (recording them as writes) and remembers the size of each batch.
type Batching struct {
	*Fake
	mu      sync.Mutex
	batches []int
}

// NewBatching returns an empty batching Fake.
func NewBatching() *Batching { return &Batching{Fake: New()} }

// Batches returns the number of ops of each Apply call so far.
func (b *Batching) Batches() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.batches...)
}

// ResetBatches forgets the recorded batches.
func (b *Batching) ResetBatches() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches = nil
}

// Apply implements ipvs.Batcher. Once ctx is done the remaining ops are not sent.
func (b *Batching) Apply(ctx context.Context, ops []ipvs.Op) []error {
	b.mu.Lock()
	b.batches = append(b.batches, len(ops))
	b.mu.Unlock()
	errs := make([]error, len(ops))
	for i, op := range ops {
		if err := ctx.Err(); err != nil {
			errs[i] = errNotSent{err}
			continue
		}
		k := op.Service.Key
		switch op.Kind {
		case ipvs.AddService:
			errs[i] = b.AddService(ctx, op.Service)
		case ipvs.UpdateService:
			errs[i] = b.UpdateService(ctx, op.Service)
		case ipvs.DeleteService:
			errs[i] = b.DeleteService(ctx, k)
		case ipvs.AddDestination:
			errs[i] = b.AddDestination(ctx, k, op.Dest)
		case ipvs.UpdateDestination:
			errs[i] = b.UpdateDestination(ctx, k, op.Dest)
		case ipvs.DeleteDestination:
			errs[i] = b.DeleteDestination(ctx, k, op.Dest.Key)
		}
	}
	return errs
}

// errNotSent wraps the reason an op was not sent together with ipvs.ErrNotSent.
type errNotSent struct{ err error }

func (e errNotSent) Error() string   { return "not sent: " + e.err.Error() }
func (e errNotSent) Unwrap() []error { return []error{ipvs.ErrNotSent, e.err} }

var _ ipvs.Batcher = (*Batching)(nil)
