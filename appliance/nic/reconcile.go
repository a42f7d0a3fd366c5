package nic

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// Reconcile runs one pass over every interface: observe, plan, write only the
// differences, read back. It returns one Result per interface in the given order;
// errors are recorded per interface and never stop the pass (except a cancelled
// context, which leaves the remaining interfaces unvisited with ctx.Err()).
func Reconcile(ctx context.Context, k Kernel, want []Interface) []Result {
	out := make([]Result, 0, len(want))
	for _, w := range want {
		if err := ctx.Err(); err != nil {
			out = append(out, Result{Interface: w.Name, WantMTU: w.MTU, WantUp: w.Up,
				Errors: []error{fmt.Errorf("nic: %s: %w", w.Name, err)}})
			continue
		}
		out = append(out, reconcileOne(k, w))
	}
	return out
}

func reconcileOne(k Kernel, w Interface) Result {
	r := Result{Interface: w.Name, WantMTU: w.MTU, WantUp: w.Up}
	fail := func(format string, args ...any) {
		r.Errors = append(r.Errors, fmt.Errorf("nic: %s: "+format, append([]any{w.Name}, args...)...))
	}
	link, err := k.Link(w.Name)
	if err != nil {
		fail("%w", err)
		return r
	}
	wantsFeatures := len(wantedFeatures(w.Offload)) > 0
	var feats map[string]FeatureState
	if wantsFeatures {
		if feats, err = k.Features(w.Name); err != nil {
			fail("read offload features: %w", err)
			feats = nil
		}
	}
	p := PlanInterface(w, link, feats)

	if p.MTU != 0 {
		if err := k.SetMTU(w.Name, p.MTU); err != nil {
			fail("set mtu %d: %w", p.MTU, err)
		} else {
			r.Changes = append(r.Changes, fmt.Sprintf("mtu %d -> %d", link.MTU, p.MTU))
		}
	}
	if p.Up {
		if err := k.SetUp(w.Name); err != nil {
			fail("set link up: %w", err)
		} else {
			r.Changes = append(r.Changes, "link up")
		}
	}
	changed := map[string]bool{}
	if len(p.Features) > 0 {
		if err := k.SetFeatures(w.Name, p.Features); err != nil {
			fail("set offload features %v: %w", featureList(p.Features), err)
		} else {
			for _, name := range slices.Sorted(maps.Keys(p.Features)) {
				changed[name] = true
				r.Changes = append(r.Changes, fmt.Sprintf("%s %s -> %s", name, onOff(feats[name].Active), onOff(p.Features[name])))
			}
		}
	}

	// Read back what the kernel has now; that, not what was written, is reported.
	if p.Empty() {
		r.Link = link
	} else if r.Link, err = k.Link(w.Name); err != nil {
		fail("read back link: %w", err)
	}
	if wantsFeatures && feats != nil {
		// Any write may move features (some drivers tie offloads to the MTU).
		if !p.Empty() {
			if feats, err = k.Features(w.Name); err != nil {
				fail("read back offload features: %w", err)
				return r
			}
		}
		r.Features = featureResults(w.Offload, feats, changed)
	}
	return r
}

func featureList(m map[string]bool) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, name+"="+onOff(m[name]))
	}
	return out
}
