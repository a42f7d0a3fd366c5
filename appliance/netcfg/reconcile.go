package netcfg

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
)

// OpError is the failure of one planned write.
type OpError struct {
	Op  Op
	Err error
}

func (e OpError) Error() string { return fmt.Sprintf("netcfg: %s: %v", e.Op, e.Err) }
func (e OpError) Unwrap() error { return e.Err }

// Result is what one pass saw and did.
type Result struct {
	Ops    []Op    // planned writes, in order
	Writes int     // writes attempted
	Errors []error // observation problems and failed writes; the rest were applied
}

// Reconciler brings the host's network configuration to a desired state.
type Reconciler struct {
	Host Host
	UTS  UTS
	// RunDir holds the ledger of what lvsbox added (LedgerFile).
	RunDir string
}

// Reconcile observes, plans and applies. Failures are collected in Result.Errors and
// never stop the other objects; the returned error is only ctx's.
func (r *Reconciler) Reconcile(ctx context.Context, d Desired) (Result, error) {
	var res Result
	ledgerPath := filepath.Join(r.RunDir, LedgerFile)
	owned, err := loadLedger(ledgerPath)
	if err != nil {
		res.Errors = append(res.Errors, err)
	}
	before := owned
	before.normalize()

	obs := r.observe(ctx, d, owned, &res)
	plan := MakePlan(d, obs, owned)
	res.Ops = plan.Ops
	res.Errors = append(res.Errors, plan.Problems...)

	next := Ledger{
		Addresses: slices.DeleteFunc(slices.Clone(owned.Addresses), func(a Address) bool { return slices.Contains(plan.ForgetAddresses, a) }),
		Routes:    slices.DeleteFunc(slices.Clone(owned.Routes), func(rt Route) bool { return slices.Contains(plan.ForgetRoutes, rt) }),
	}
	var ctxErr error
	for _, op := range plan.Ops {
		if ctxErr = ctx.Err(); ctxErr != nil {
			break
		}
		res.Writes++
		if err := r.apply(ctx, op); err != nil {
			res.Errors = append(res.Errors, OpError{Op: op, Err: err})
			continue
		}
		switch op.Kind {
		case AddAddress:
			next.Addresses = append(next.Addresses, op.Address)
		case DeleteAddress:
			next.Addresses = slices.DeleteFunc(next.Addresses, func(a Address) bool { return a == op.Address })
		case AddRoute:
			next.Routes = append(next.Routes, op.Route)
		case DeleteRoute:
			next.Routes = slices.DeleteFunc(next.Routes, func(rt Route) bool { return rt == op.Route })
		}
	}
	next.normalize()
	if !slices.Equal(next.Addresses, before.Addresses) || !slices.Equal(next.Routes, before.Routes) {
		if err := saveLedger(ledgerPath, next); err != nil {
			res.Errors = append(res.Errors, err)
		}
	}
	return res, ctxErr
}

func (r *Reconciler) observe(ctx context.Context, d Desired, owned Ledger, res *Result) Observed {
	obs := Observed{Links: map[string]LinkState{}}
	if d.Hostname != "" {
		h, err := r.UTS.Hostname()
		if err != nil {
			res.Errors = append(res.Errors, err)
		} else {
			obs.Hostname, obs.HostnameKnown = h, true
		}
	}
	for _, name := range linksToObserve(d, owned) {
		st, err := r.Host.Link(ctx, name)
		if err != nil {
			res.Errors = append(res.Errors, err)
			continue
		}
		obs.Links[name] = st
	}
	if len(d.Routes) > 0 || len(owned.Routes) > 0 {
		routes, err := r.Host.Routes(ctx)
		if err != nil {
			res.Errors = append(res.Errors, err)
		} else {
			obs.Routes, obs.RoutesKnown = routes, true
		}
	}
	return obs
}

func (r *Reconciler) apply(ctx context.Context, op Op) error {
	switch op.Kind {
	case SetHostname:
		return r.UTS.SetHostname(op.Name)
	case SetLinkUp:
		return r.Host.SetLinkUp(ctx, op.Name)
	case AddAddress:
		return r.Host.AddAddress(ctx, op.Address)
	case DeleteAddress:
		return r.Host.DeleteAddress(ctx, op.Address)
	case AddRoute:
		return r.Host.AddRoute(ctx, op.Route)
	case DeleteRoute:
		return r.Host.DeleteRoute(ctx, op.Route)
	}
	return fmt.Errorf("unknown op kind %d", op.Kind)
}
