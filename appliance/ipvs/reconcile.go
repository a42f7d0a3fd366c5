package ipvs

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// OpError is the failure of one planned write.
type OpError struct {
	Op  Op
	Err error
}

func (e OpError) Error() string { return fmt.Sprintf("ipvs: %s: %v", e.Op, e.Err) }
func (e OpError) Unwrap() error { return e.Err }

// ErrSkipped marks destination writes not attempted because their service's write
// failed.
var ErrSkipped = errors.New("skipped: the service could not be written")

// Result is what one reconcile pass saw and did.
type Result struct {
	Observed []ServiceState // the kernel before the pass (only the services looked at)
	Ops      []Op           // the planned writes, in order
	Writes   int            // writes sent to the kernel
	Errors   []OpError      // writes that failed or were skipped; the rest were applied
}

// Reconciler brings the kernel's IPVS table to a desired state.
type Reconciler struct {
	Kernel Kernel
}

// Reconcile observes the whole kernel table, diffs against desired and applies the
// difference. A failed write is recorded in Result.Errors and the pass continues with
// the next object. The returned error is only for a failed observation or a
// cancelled ctx; in the latter case the Result holds what was done so far.
//
// With a Kernel that is a Batcher, the writes go in two batches: first every service
// write (adds, updates, deletes), then the destination writes of the services that
// exist; destinations of a service whose add failed are skipped.
func (r *Reconciler) Reconcile(ctx context.Context, desired []ServiceState) (Result, error) {
	observed, err := r.Kernel.Services(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("ipvs: list services: %w", err)
	}
	res := Result{Observed: observed, Ops: Diff(desired, observed)}
	return res, r.apply(ctx, &res)
}

// ReconcileServices is Reconcile limited to the services keys: only they are read
// from the kernel (one service at a time when the Kernel is a ServiceReader), and
// only they are written -- added, updated, or deleted when desired has no such key.
// It is the cheap pass after a change that touched a few services of a large table;
// the periodic full Reconcile still repairs everything else.
func (r *Reconciler) ReconcileServices(ctx context.Context, desired []ServiceState, keys []ServiceKey) (Result, error) {
	observed, err := r.Observe(ctx, keys)
	if err != nil {
		return Result{}, err
	}
	want := make(map[ServiceKey]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	var subset []ServiceState
	for _, d := range desired {
		if want[d.Key] {
			subset = append(subset, d)
		}
	}
	return r.ReconcileObserved(ctx, subset, observed)
}

// Observe reads the services keys (those the kernel has) with their destinations:
// one service at a time when the Kernel is a ServiceReader, else from a full list.
func (r *Reconciler) Observe(ctx context.Context, keys []ServiceKey) ([]ServiceState, error) {
	var observed []ServiceState
	if sr, ok := r.Kernel.(ServiceReader); ok {
		for _, k := range keys {
			s, ok, err := sr.Service(ctx, k)
			if err != nil {
				return nil, fmt.Errorf("ipvs: read service %s: %w", k, err)
			}
			if ok {
				observed = append(observed, s)
			}
		}
		return observed, nil
	}
	want := make(map[ServiceKey]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	all, err := r.Kernel.Services(ctx)
	if err != nil {
		return nil, fmt.Errorf("ipvs: list services: %w", err)
	}
	for _, s := range all {
		if want[s.Key] {
			observed = append(observed, s)
		}
	}
	return observed, nil
}

// ReconcileObserved diffs desired against observed (what the caller just read from
// the kernel: the whole table, or the services it is limited to) and applies the
// difference, as Reconcile does after its own observation.
func (r *Reconciler) ReconcileObserved(ctx context.Context, desired, observed []ServiceState) (Result, error) {
	res := Result{Observed: observed, Ops: Diff(desired, observed)}
	return res, r.apply(ctx, &res)
}

// apply performs res.Ops and records writes and errors.
func (r *Reconciler) apply(ctx context.Context, res *Result) error {
	if b, ok := r.Kernel.(Batcher); ok {
		return r.applyBatched(ctx, b, res)
	}
	failed := map[ServiceKey]bool{}
	for _, op := range res.Ops {
		if err := ctx.Err(); err != nil {
			return err
		}
		if op.Kind >= AddDestination && failed[op.Service.Key] {
			res.Errors = append(res.Errors, OpError{Op: op, Err: ErrSkipped})
			continue
		}
		res.Writes++
		if err := r.applyOne(ctx, op); err != nil {
			res.Errors = append(res.Errors, OpError{Op: op, Err: err})
			if op.Kind == AddService {
				failed[op.Service.Key] = true
			}
		}
	}
	return nil
}

func (r *Reconciler) applyBatched(ctx context.Context, b Batcher, res *Result) error {
	errs := make([]error, len(res.Ops))
	var svcIdx, dstIdx []int
	for i, op := range res.Ops {
		if op.Kind < AddDestination {
			svcIdx = append(svcIdx, i)
		} else {
			dstIdx = append(dstIdx, i)
		}
	}
	run := func(idx []int) {
		if len(idx) == 0 {
			return
		}
		ops := make([]Op, len(idx))
		for k, i := range idx {
			ops[k] = res.Ops[i]
		}
		for k, err := range b.Apply(ctx, ops) {
			errs[idx[k]] = err
			if !errors.Is(err, ErrNotSent) {
				res.Writes++
			}
		}
	}
	run(svcIdx)
	if ctx.Err() == nil {
		failed := map[ServiceKey]bool{}
		for _, i := range svcIdx {
			if errs[i] != nil && res.Ops[i].Kind == AddService {
				failed[res.Ops[i].Service.Key] = true
			}
		}
		dstIdx = slices.DeleteFunc(dstIdx, func(i int) bool {
			if failed[res.Ops[i].Service.Key] {
				errs[i] = ErrSkipped
				return true
			}
			return false
		})
		run(dstIdx)
	}
	for i, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			res.Errors = append(res.Errors, OpError{Op: res.Ops[i], Err: err})
		}
	}
	return ctx.Err()
}

func (r *Reconciler) applyOne(ctx context.Context, op Op) error {
	k := op.Service.Key
	switch op.Kind {
	case AddService:
		return r.Kernel.AddService(ctx, op.Service)
	case UpdateService:
		return r.Kernel.UpdateService(ctx, op.Service)
	case DeleteService:
		return r.Kernel.DeleteService(ctx, k)
	case AddDestination:
		return r.Kernel.AddDestination(ctx, k, op.Dest)
	case UpdateDestination:
		return r.Kernel.UpdateDestination(ctx, k, op.Dest)
	case DeleteDestination:
		return r.Kernel.DeleteDestination(ctx, k, op.Dest.Key)
	}
	return fmt.Errorf("unknown op kind %d", op.Kind)
}
