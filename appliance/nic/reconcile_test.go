package nic_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/nic"
	"github.com/lvsbox/lvsbox/appliance/nic/nictest"
)

func ptr(b bool) *bool { return &b }

// virtio is a virtio-net NIC on a tap backend as seen in a QEMU guest: GRO and
// hardware GRO on and changeable, LRO off and fixed, TSO on.
func virtio() nictest.Link {
	return nictest.Link{MTU: 1500, Features: map[string]nic.FeatureState{
		nic.FeatureGRO:         {Active: true},
		nic.FeatureLRO:         {Active: false, Fixed: true},
		nic.FeatureGROHW:       {Active: true},
		nic.FeatureGSO:         {Active: true},
		nic.FeatureTSO:         {Active: true},
		nic.FeatureTSO6:        {Active: true},
		nic.FeatureTSOECN:      {Active: true},
		nic.FeatureTSOMangleID: {Active: false},
	}}
}

func TestPlanInterface(t *testing.T) {
	feats := virtio().Features
	cases := []struct {
		name string
		want nic.Interface
		link nic.LinkState
		feat map[string]nic.FeatureState
		plan nic.Plan
	}{
		{"nothing wanted", nic.Interface{Name: "eth0"}, nic.LinkState{MTU: 1500}, feats, nic.Plan{}},
		{"mtu and up", nic.Interface{Name: "eth0", MTU: 9000, Up: true}, nic.LinkState{MTU: 1500}, feats,
			nic.Plan{MTU: 9000, Up: true}},
		{"already up, same mtu", nic.Interface{Name: "eth0", MTU: 1500, Up: true}, nic.LinkState{MTU: 1500, AdminUp: true}, feats,
			nic.Plan{}},
		{"director defaults: LRO fixed off is skipped", nic.Interface{Name: "eth0", Offload: nic.Policy{}.DirectorDefaults()},
			nic.LinkState{MTU: 1500}, feats,
			nic.Plan{Features: map[string]bool{nic.FeatureGRO: false, nic.FeatureGROHW: false}}},
		{"fixed feature wanted on is not requested", nic.Interface{Name: "eth0", Offload: nic.Policy{LRO: ptr(true)}},
			nic.LinkState{}, feats, nic.Plan{}},
		{"tso covers every tcp segmentation feature that differs",
			nic.Interface{Name: "eth0", Offload: nic.Policy{TSO: ptr(false)}}, nic.LinkState{}, feats,
			nic.Plan{Features: map[string]bool{nic.FeatureTSO: false, nic.FeatureTSO6: false, nic.FeatureTSOECN: false}}},
		{"absent feature is not requested", nic.Interface{Name: "eth0", Offload: nic.Policy{GSO: ptr(false)}},
			nic.LinkState{}, map[string]nic.FeatureState{}, nic.Plan{}},
		{"features unreadable", nic.Interface{Name: "eth0", Offload: nic.Policy{GRO: ptr(false)}},
			nic.LinkState{}, nil, nic.Plan{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := nic.PlanInterface(c.want, c.link, c.feat)
			if got.MTU != c.plan.MTU || got.Up != c.plan.Up || !mapsEqual(got.Features, c.plan.Features) {
				t.Errorf("plan = %+v, want %+v", got, c.plan)
			}
			if got.Empty() != (c.plan.MTU == 0 && !c.plan.Up && len(c.plan.Features) == 0) {
				t.Errorf("Empty() = %v for %+v", got.Empty(), got)
			}
		})
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestDirectorDefaultsKeepExplicit(t *testing.T) {
	p := nic.Policy{GRO: ptr(true), TSO: ptr(false)}.DirectorDefaults()
	if !*p.GRO || *p.LRO || *p.GROHW || p.GSO != nil || *p.TSO {
		t.Errorf("DirectorDefaults = gro %v lro %v gro_hw %v gso %v tso %v", *p.GRO, *p.LRO, *p.GROHW, p.GSO, *p.TSO)
	}
}

func TestReconcileAppliesOnlyDifferencesAndReadsBack(t *testing.T) {
	f := nictest.NewFake(map[string]nictest.Link{"eth0": virtio(), "eth1": virtio()})
	want := []nic.Interface{
		{Name: "eth0", MTU: 9000, Up: true, Offload: nic.Policy{}.DirectorDefaults()},
		{Name: "eth1", Up: true, Offload: nic.Policy{GRO: ptr(true), LRO: ptr(false)}},
	}
	res := nic.Reconcile(context.Background(), f, want)
	wantWrites := []string{
		"eth0 mtu 9000", "eth0 up", "eth0 rx-gro=false", "eth0 rx-gro-hw=false",
		"eth1 up",
	}
	if got := f.Writes(); !slices.Equal(got, wantWrites) {
		t.Fatalf("writes = %q, want %q", got, wantWrites)
	}
	r := res[0]
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if r.Link.MTU != 9000 || !r.Link.AdminUp || r.Link.OperState != "up" {
		t.Errorf("read-back link = %+v", r.Link)
	}
	if !slices.Equal(r.Changes, []string{"mtu 1500 -> 9000", "link up", "rx-gro on -> off", "rx-gro-hw on -> off"}) {
		t.Errorf("changes = %q", r.Changes)
	}
	wantFeat := []nic.FeatureResult{
		{Policy: "gro", Feature: nic.FeatureGRO, Wanted: false, Actual: false, Present: true, Changed: true},
		{Policy: "lro", Feature: nic.FeatureLRO, Wanted: false, Actual: false, Fixed: true, Present: true},
		{Policy: "gro_hw", Feature: nic.FeatureGROHW, Wanted: false, Actual: false, Present: true, Changed: true},
	}
	if !slices.Equal(r.Features, wantFeat) {
		t.Errorf("features =\n%+v\nwant\n%+v", r.Features, wantFeat)
	}
	if c := r.Conditions(); len(c) != 0 {
		t.Errorf("conditions = %q", c)
	}

	// A second pass with nothing changed writes nothing.
	before := len(f.Writes())
	res = nic.Reconcile(context.Background(), f, want)
	if got := f.Writes()[before:]; len(got) != 0 {
		t.Errorf("no-op pass wrote %q", got)
	}
	for _, r := range res {
		if r.Err() != nil || len(r.Changes) != 0 || len(r.Conditions()) != 0 {
			t.Errorf("no-op pass result %s: err %v changes %q conditions %q", r.Interface, r.Err(), r.Changes, r.Conditions())
		}
	}

	// Drift (someone ran ethtool -K eth0 gro on) is repaired by the next pass.
	f.Set("eth0", nic.FeatureGRO, true)
	res = nic.Reconcile(context.Background(), f, want)
	if !slices.Equal(res[0].Changes, []string{"rx-gro on -> off"}) || f.Get("eth0", nic.FeatureGRO).Active {
		t.Errorf("drift pass: changes %q, rx-gro %v", res[0].Changes, f.Get("eth0", nic.FeatureGRO).Active)
	}
}

func TestReconcileReportsFixedAndRefusedWithoutFailing(t *testing.T) {
	l := virtio()
	l.Features[nic.FeatureLRO] = nic.FeatureState{Active: true, Fixed: true} // a NIC with LRO stuck on
	l.Refuse = map[string]bool{nic.FeatureTSO: true}
	delete(l.Features, nic.FeatureGROHW) // an old kernel without rx-gro-hw
	f := nictest.NewFake(map[string]nictest.Link{"eth0": l})
	res := nic.Reconcile(context.Background(), f, []nic.Interface{
		{Name: "eth0", Offload: nic.Policy{LRO: ptr(false), GROHW: ptr(true), TSO: ptr(false)}},
	})
	r := res[0]
	if err := r.Err(); err != nil {
		t.Fatalf("fixed/refused features must not be errors: %v", err)
	}
	byName := map[string]nic.FeatureResult{}
	for _, fr := range r.Features {
		byName[fr.Feature] = fr
	}
	if fr := byName[nic.FeatureLRO]; !fr.Fixed || !fr.Actual || fr.Met() || fr.Changed {
		t.Errorf("rx-lro = %+v, want fixed on, unmet, unchanged", fr)
	}
	if fr := byName[nic.FeatureGROHW]; fr.Present || !fr.Fixed || fr.Met() {
		t.Errorf("rx-gro-hw = %+v, want absent", fr)
	}
	if fr := byName[nic.FeatureTSO]; !fr.Changed || !fr.Actual || fr.Met() {
		t.Errorf("tx-tcp-segmentation = %+v, want changed but still on", fr)
	}
	if fr := byName[nic.FeatureTSO6]; !fr.Met() {
		t.Errorf("tx-tcp6-segmentation = %+v, want off", fr)
	}
	conds := strings.Join(r.Conditions(), "\n")
	for _, want := range []string{
		"rx-lro: wanted off, is on and fixed",
		"rx-gro-hw: wanted on, the NIC does not offer it",
		"tx-tcp-segmentation: wanted off, still on after the change",
	} {
		if !strings.Contains(conds, want) {
			t.Errorf("conditions lack %q:\n%s", want, conds)
		}
	}
	if !strings.Contains(r.String(), "rx-lro on [fixed]") {
		t.Errorf("summary %q lacks the fixed marker", r.String())
	}
}

func TestReconcileErrorsArePerInterface(t *testing.T) {
	noEthtool := virtio()
	noEthtool.FeatureErr = errors.New("operation not supported")
	small := virtio()
	small.MaxMTU = 1500
	f := nictest.NewFake(map[string]nictest.Link{"lo0": noEthtool, "eth1": small, "eth2": virtio()})
	res := nic.Reconcile(context.Background(), f, []nic.Interface{
		{Name: "missing", Up: true, Offload: nic.Policy{GRO: ptr(false)}},
		{Name: "lo0", Up: true, Offload: nic.Policy{GRO: ptr(false)}},
		{Name: "eth1", MTU: 9000, Up: true, Offload: nic.Policy{GRO: ptr(false)}},
		{Name: "eth2", Offload: nic.Policy{GRO: ptr(false)}},
	})
	if err := res[0].Err(); !errors.Is(err, nic.ErrNoLink) || !strings.Contains(err.Error(), "nic: missing:") {
		t.Errorf("missing interface: %v", err)
	}
	if err := res[1].Err(); err == nil || !strings.Contains(err.Error(), "nic: lo0: read offload features: operation not supported") {
		t.Errorf("lo0: %v", err)
	}
	if !res[1].Link.AdminUp {
		t.Errorf("lo0 not brought up despite the feature error")
	}
	if err := res[2].Err(); err == nil || !strings.Contains(err.Error(), "nic: eth1: set mtu 9000:") {
		t.Errorf("eth1: %v", err)
	}
	if fr := res[2].Features; len(fr) != 1 || !fr[0].Met() || !res[2].Link.AdminUp {
		t.Errorf("eth1 features %+v link %+v: the rest of the pass must still apply", fr, res[2].Link)
	}
	if c := res[2].Conditions(); len(c) != 1 || c[0] != "mtu: wanted 9000, is 1500" {
		t.Errorf("eth1 conditions %q", c)
	}
	if res[3].Err() != nil || f.Get("eth2", nic.FeatureGRO).Active {
		t.Errorf("eth2: %v, gro %v", res[3].Err(), f.Get("eth2", nic.FeatureGRO).Active)
	}
}

func TestReconcileCancelled(t *testing.T) {
	f := nictest.NewFake(map[string]nictest.Link{"eth0": virtio()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := nic.Reconcile(ctx, f, []nic.Interface{{Name: "eth0", Up: true}})
	if !errors.Is(res[0].Err(), context.Canceled) || len(f.Writes()) != 0 {
		t.Errorf("cancelled pass: %v, writes %q", res[0].Err(), f.Writes())
	}
}
