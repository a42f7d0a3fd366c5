package nic

// Plan is what a pass must write to one interface.
type Plan struct {
	// MTU to set; 0 leaves it.
	MTU int
	// Up: bring the link administratively up.
	Up bool
	// Features to request, by kernel name; only changeable features that differ.
	Features map[string]bool
}

// Empty reports whether the plan writes nothing.
func (p Plan) Empty() bool { return p.MTU == 0 && !p.Up && len(p.Features) == 0 }

// wanted is one kernel feature the policy sets.
type wanted struct {
	policy, feature string
	on              bool
}

// wantedFeatures expands a policy into kernel features, in report order.
func wantedFeatures(p Policy) []wanted {
	var out []wanted
	for _, pf := range policyFeatures {
		v := pf.get(p)
		if v == nil {
			continue
		}
		for _, f := range pf.features {
			out = append(out, wanted{pf.policy, f, *v})
		}
	}
	return out
}

// PlanInterface diffs the wanted interface against the observed link and features
// (features may be nil when they could not be read: then no feature is planned).
// Fixed and absent features are never requested: the NIC would refuse them.
func PlanInterface(want Interface, link LinkState, features map[string]FeatureState) Plan {
	var p Plan
	if want.MTU != 0 && link.MTU != want.MTU {
		p.MTU = want.MTU
	}
	if want.Up && !link.AdminUp {
		p.Up = true
	}
	if features == nil {
		return p
	}
	for _, w := range wantedFeatures(want.Offload) {
		st, ok := features[w.feature]
		if !ok || st.Fixed || st.Active == w.on {
			continue
		}
		if p.Features == nil {
			p.Features = map[string]bool{}
		}
		p.Features[w.feature] = w.on
	}
	return p
}

// featureResults reports the policy's features against what was read back.
func featureResults(pol Policy, features map[string]FeatureState, changed map[string]bool) []FeatureResult {
	var out []FeatureResult
	for _, w := range wantedFeatures(pol) {
		st, ok := features[w.feature]
		fr := FeatureResult{Policy: w.policy, Feature: w.feature, Wanted: w.on, Present: ok, Changed: changed[w.feature]}
		if ok {
			fr.Actual, fr.Fixed = st.Active, st.Fixed
		} else {
			fr.Fixed = true
		}
		out = append(out, fr)
	}
	return out
}
