package nic

import (
	"errors"
	"fmt"
	"strings"
)

// Kernel feature names (the ETH_SS_FEATURES strings; `ethtool -K DEV NAME off`
// accepts them too; `ethtool -k` shows some under legacy names such as
// generic-receive-offload).
const (
	FeatureGRO         = "rx-gro"
	FeatureLRO         = "rx-lro"
	FeatureGROHW       = "rx-gro-hw"
	FeatureGSO         = "tx-generic-segmentation"
	FeatureTSO         = "tx-tcp-segmentation"
	FeatureTSO6        = "tx-tcp6-segmentation"
	FeatureTSOECN      = "tx-tcp-ecn-segmentation"
	FeatureTSOMangleID = "tx-tcp-mangleid-segmentation"
)

// Policy words, as in the configuration's offload policy.
const (
	policyGRO, policyLRO = "gro", "lro"
	policyGROHW          = "gro_hw"
	policyGSO, policyTSO = "gso", "tso"
)

// policyFeatures maps each policy word to the kernel features it switches, in the
// order results are reported. "tso" covers every TCP segmentation feature, like
// `ethtool -K DEV tso off`.
var policyFeatures = []struct {
	policy   string
	features []string
	get      func(Policy) *bool
}{
	{policyGRO, []string{FeatureGRO}, func(p Policy) *bool { return p.GRO }},
	{policyLRO, []string{FeatureLRO}, func(p Policy) *bool { return p.LRO }},
	{policyGROHW, []string{FeatureGROHW}, func(p Policy) *bool { return p.GROHW }},
	{policyGSO, []string{FeatureGSO}, func(p Policy) *bool { return p.GSO }},
	{policyTSO, []string{FeatureTSO, FeatureTSO6, FeatureTSOECN, FeatureTSOMangleID}, func(p Policy) *bool { return p.TSO }},
}

// Policy is an interface's offload policy; nil leaves a feature as the NIC has it.
type Policy struct {
	GRO   *bool // generic receive offload (rx-gro)
	LRO   *bool // large receive offload (rx-lro)
	GROHW *bool // hardware GRO (rx-gro-hw; virtio-net's LRO shows up here)
	GSO   *bool // generic segmentation offload (tx-generic-segmentation)
	TSO   *bool // TCP segmentation offload (tx-tcp*-segmentation)
}

// DirectorDefaults returns p with GRO, LRO and hardware GRO set to off where p leaves
// them unset: IPVS forwards packets as received, and aggregated packets larger than
// the MTU cannot be forwarded unchanged (see docs/tuning.md).
func (p Policy) DirectorDefaults() Policy {
	off := func(b *bool) *bool {
		if b != nil {
			return b
		}
		f := false
		return &f
	}
	p.GRO, p.LRO, p.GROHW = off(p.GRO), off(p.LRO), off(p.GROHW)
	return p
}

// Interface is the wanted state of one interface.
type Interface struct {
	Name string
	// MTU 0 leaves the MTU as it is.
	MTU int
	// Up brings the link administratively up; false leaves the link state alone
	// (nic never takes a link down).
	Up      bool
	Offload Policy
}

// LinkState is what the kernel reports about a link.
type LinkState struct {
	MTU       int
	AdminUp   bool   // IFF_UP
	OperState string // RFC 2863 operational state: "up", "down", "lowerlayerdown", "unknown", ...
}

// FeatureState is one offload feature as the kernel reports it.
type FeatureState struct {
	Active bool
	// Fixed: the NIC cannot change it (not in its changeable features, or marked
	// never-changed); ethtool prints "[fixed]".
	Fixed bool
}

// Kernel is what nic needs from the system, per interface name.
type Kernel interface {
	// Link returns the link state; an error wrapping ErrNoLink when there is none.
	Link(name string) (LinkState, error)
	SetMTU(name string, mtu int) error
	SetUp(name string) error
	// Features returns every feature the kernel names for the interface.
	Features(name string) (map[string]FeatureState, error)
	// SetFeatures requests the given features on (true) or off (false). The kernel
	// may silently ignore a request; callers read back.
	SetFeatures(name string, want map[string]bool) error
}

// ErrNoLink is wrapped by Kernel.Link when the interface does not exist.
var ErrNoLink = errors.New("no such interface")

// FeatureResult is one feature after a pass.
type FeatureResult struct {
	Policy  string // policy word: gro, lro, gro_hw, gso, tso
	Feature string // kernel name, e.g. rx-gro
	Wanted  bool
	Actual  bool
	// Fixed: the NIC does not allow changing the feature.
	Fixed bool
	// Present is false when the kernel does not name the feature for this interface
	// (then Actual is false and Fixed is true).
	Present bool
	// Changed: this pass wrote the feature.
	Changed bool
}

// Met reports whether the feature is as wanted.
func (f FeatureResult) Met() bool { return f.Actual == f.Wanted }

// Condition describes an unmet feature for status ("" when met).
func (f FeatureResult) Condition() string {
	if f.Met() {
		return ""
	}
	switch {
	case !f.Present:
		return fmt.Sprintf("%s: wanted %s, the NIC does not offer it", f.Feature, onOff(f.Wanted))
	case f.Fixed:
		return fmt.Sprintf("%s: wanted %s, is %s and fixed (the NIC does not allow changing it)", f.Feature, onOff(f.Wanted), onOff(f.Actual))
	case f.Changed:
		return fmt.Sprintf("%s: wanted %s, still %s after the change (the kernel refused it, e.g. a feature it depends on is off)", f.Feature, onOff(f.Wanted), onOff(f.Actual))
	default:
		return fmt.Sprintf("%s: wanted %s, is %s", f.Feature, onOff(f.Wanted), onOff(f.Actual))
	}
}

// Result is one interface after a pass.
type Result struct {
	Interface string
	// WantMTU 0: the MTU is not managed.
	WantMTU int
	WantUp  bool
	// Link is the state read back at the end of the pass (zero if unreadable).
	Link     LinkState
	Features []FeatureResult
	// Changes lists what this pass wrote, e.g. "mtu 1500 -> 9000", "rx-gro on -> off".
	Changes []string
	// Errors are per-step failures (no such interface, MTU refused, ethtool
	// unavailable); fixed or refused features are not errors, see Conditions.
	Errors []error
}

// Err joins the result's errors (nil when there are none).
func (r Result) Err() error { return errors.Join(r.Errors...) }

// Conditions lists everything that is not as wanted: unmet features and a link that
// is not up or has another MTU after the pass.
func (r Result) Conditions() []string {
	var out []string
	if r.WantMTU != 0 && r.Link.MTU != 0 && r.Link.MTU != r.WantMTU {
		out = append(out, fmt.Sprintf("mtu: wanted %d, is %d", r.WantMTU, r.Link.MTU))
	}
	if r.WantUp && r.Link.OperState != "" && !r.Link.AdminUp {
		out = append(out, "link: wanted up, is down")
	}
	for _, f := range r.Features {
		if c := f.Condition(); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// String is a one-line summary for logs.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: mtu %d, %s", r.Interface, r.Link.MTU, r.Link.OperState)
	for _, f := range r.Features {
		fmt.Fprintf(&b, ", %s %s", f.Feature, onOff(f.Actual))
		if f.Fixed {
			b.WriteString(" [fixed]")
		}
	}
	return b.String()
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
