package ipvs

import (
	"context"
	"errors"
	"fmt"
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
	Observed []ServiceState // the kernel before the pass
	Ops      []Op           // the planned writes, in order
	Writes   int            // kernel write calls made
	Errors   []OpError      // writes that failed or were skipped; the rest were applied
}

// Reconciler brings the kernel's IPVS table to a desired state.
type Reconciler struct {
	Kernel Kernel
}

// Reconcile observes the kernel, diffs against desired and applies the difference.
// A failed write is recorded in Result.Errors and the pass continues with the next
// object. The returned error is only for a failed observation or a cancelled ctx; in
// the latter case the Result holds what was done so far.
func (r *Reconciler) Reconcile(ctx context.Context, desired []ServiceState) (Result, error) {
	observed, err := r.Kernel.Services(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("ipvs: list services: %w", err)
	}
	res := Result{Observed: observed, Ops: Diff(desired, observed)}
	failed := map[ServiceKey]bool{}
	for _, op := range res.Ops {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if op.Kind >= AddDestination && failed[op.Service.Key] {
			res.Errors = append(res.Errors, OpError{Op: op, Err: ErrSkipped})
			continue
		}
		res.Writes++
		if err := r.apply(ctx, op); err != nil {
			res.Errors = append(res.Errors, OpError{Op: op, Err: err})
			if op.Kind == AddService {
				failed[op.Service.Key] = true
			}
		}
	}
	return res, nil
}

func (r *Reconciler) apply(ctx context.Context, op Op) error {
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
