package nictest

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/lvsbox/lvsbox/appliance/nic"
)

// Link is one fake interface.
type Link struct {
	MTU     int
	MaxMTU  int // 0: no limit
	AdminUp bool
	// Features by kernel name.
	Features map[string]nic.FeatureState
	// Refuse names changeable features whose change requests the "kernel" silently
	// ignores (as when a feature they depend on is off).
	Refuse map[string]bool
	// FeatureErr, when set, is returned by Features and SetFeatures (no ethtool
	// support).
	FeatureErr error
}

// Fake is an in-memory nic.Kernel.
type Fake struct {
	mu     sync.Mutex
	links  map[string]*Link
	writes []string
}

var _ nic.Kernel = (*Fake)(nil)

// NewFake returns a Fake with the given links (copied).
func NewFake(links map[string]Link) *Fake {
	f := &Fake{links: map[string]*Link{}}
	for name, l := range links {
		l.Features = maps.Clone(l.Features)
		f.links[name] = &l
	}
	return f
}

// Writes returns every write so far, e.g. "eth0 mtu 9000", "eth0 rx-gro=off".
func (f *Fake) Writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.writes)
}

// Set changes a feature behind the reconciler's back (drift).
func (f *Fake) Set(name, feature string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.links[name].Features[feature]
	st.Active = on
	f.links[name].Features[feature] = st
}

// Get returns a feature's state.
func (f *Fake) Get(name, feature string) nic.FeatureState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.links[name].Features[feature]
}

func (f *Fake) get(name string) (*Link, error) {
	l, ok := f.links[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", nic.ErrNoLink, name)
	}
	return l, nil
}

// Link implements nic.Kernel.
func (f *Fake) Link(name string) (nic.LinkState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.get(name)
	if err != nil {
		return nic.LinkState{}, err
	}
	st := nic.LinkState{MTU: l.MTU, AdminUp: l.AdminUp, OperState: "down"}
	if l.AdminUp {
		st.OperState = "up"
	}
	return st, nil
}

// SetMTU implements nic.Kernel.
func (f *Fake) SetMTU(name string, mtu int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.get(name)
	if err != nil {
		return err
	}
	f.writes = append(f.writes, fmt.Sprintf("%s mtu %d", name, mtu))
	if l.MaxMTU != 0 && mtu > l.MaxMTU {
		return fmt.Errorf("mtu %d above the maximum %d: invalid argument", mtu, l.MaxMTU)
	}
	l.MTU = mtu
	return nil
}

// SetUp implements nic.Kernel.
func (f *Fake) SetUp(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.get(name)
	if err != nil {
		return err
	}
	f.writes = append(f.writes, name+" up")
	l.AdminUp = true
	return nil
}

// Features implements nic.Kernel.
func (f *Fake) Features(name string) (map[string]nic.FeatureState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.get(name)
	if err != nil {
		return nil, err
	}
	if l.FeatureErr != nil {
		return nil, l.FeatureErr
	}
	return maps.Clone(l.Features), nil
}

// SetFeatures implements nic.Kernel like the kernel's ETHTOOL_SFEATURES: unknown
// names are an error, fixed and refused features are silently left alone.
func (f *Fake) SetFeatures(name string, want map[string]bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.get(name)
	if err != nil {
		return err
	}
	if l.FeatureErr != nil {
		return l.FeatureErr
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if _, ok := l.Features[k]; !ok {
			return fmt.Errorf("unsupported feature %q", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		f.writes = append(f.writes, fmt.Sprintf("%s %s=%v", name, k, want[k]))
		st := l.Features[k]
		if st.Fixed || l.Refuse[k] {
			continue
		}
		st.Active = want[k]
		l.Features[k] = st
	}
	return nil
}
