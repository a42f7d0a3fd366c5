package nic_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lvsbox/lvsbox/tools/testenv"

	"github.com/lvsbox/lvsbox/appliance/nic"
	"github.com/safchain/ethtool"
	"github.com/vishvananda/netns"
)

// vethNetns makes a throwaway namespace holding a veth pair (both ends down) and
// returns its handle and the two link names; everything is removed when the test ends.
func vethNetns(t *testing.T) (netns.NsHandle, string, string) {
	t.Helper()
	name, ns := testenv.Netns(t, "lvsbox-nic")
	sfx := testenv.Suffix()
	a, z := "nva"+sfx, "nvz"+sfx
	testenv.IP(t, "-n", name, "link", "add", a, "type", "veth", "peer", "name", z)
	return ns, a, z
}

func TestSystemVethInNetns(t *testing.T) {
	testenv.NeedRoot(t)
	ns, a, z := vethNetns(t)
	sys, err := nic.OpenIn(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)

	// The handles act in the namespace, not in the test's own one.
	host, err := nic.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(host.Close)
	if _, err := host.Link(a); !errors.Is(err, nic.ErrNoLink) {
		t.Fatalf("host namespace sees %s: %v", a, err)
	}
	if _, err := host.Features(a); err == nil {
		t.Fatalf("host ethtool socket reads features of %s, which lives in another namespace", a)
	}

	ctx := context.Background()
	// veth's GRO defaults differ between kernels: switch it on first, so that the
	// pass under test has to switch it off.
	want := []nic.Interface{{Name: a, Offload: nic.Policy{GRO: ptr(true)}}}
	if r := nic.Reconcile(ctx, sys, want)[0]; r.Err() != nil || !r.Features[0].Met() {
		t.Fatalf("switch rx-gro on: %v %+v", r.Err(), r.Features)
	}
	assertFeature(t, ns, a, nic.FeatureGRO, true)

	want = []nic.Interface{
		{Name: a, MTU: 1400, Up: true, Offload: nic.Policy{GRO: ptr(false), LRO: ptr(false)}},
		{Name: z, Up: true},
	}
	res := nic.Reconcile(ctx, sys, want)
	for _, r := range res {
		if err := r.Err(); err != nil {
			t.Fatalf("%s: %v", r.Interface, err)
		}
	}
	r := res[0]
	t.Logf("after the pass: %s; changes %q", r, r.Changes)
	if r.Link.MTU != 1400 || !r.Link.AdminUp {
		t.Errorf("link read back %+v, want mtu 1400, up", r.Link)
	}
	gro, lro := r.Features[0], r.Features[1]
	if gro.Feature != nic.FeatureGRO || !gro.Met() || gro.Fixed || !gro.Changed {
		t.Errorf("rx-gro = %+v, want switched off, changeable", gro)
	}
	if lro.Feature != nic.FeatureLRO || !lro.Fixed || lro.Actual || lro.Changed {
		t.Errorf("rx-lro = %+v, want fixed off, not written", lro)
	}
	// Independent read-back with a second ethtool socket opened in the namespace.
	assertFeature(t, ns, a, nic.FeatureGRO, false)

	// Nothing changed: a second pass writes nothing.
	res = nic.Reconcile(ctx, sys, want)
	if len(res[0].Changes)+len(res[1].Changes) != 0 {
		t.Errorf("no-op pass changed %q %q", res[0].Changes, res[1].Changes)
	}
	if st, err := sys.Link(a); err != nil || st.OperState != "up" {
		t.Errorf("%s with both ends up: %+v %v", a, st, err)
	}

	// LRO wanted on: a reported condition, not an error.
	want[0].Offload = nic.Policy{GRO: ptr(false), LRO: ptr(true)}
	r = nic.Reconcile(ctx, sys, want)[0]
	if err := r.Err(); err != nil {
		t.Fatalf("fixed LRO must not fail the pass: %v", err)
	}
	if f := r.Features[1]; f.Met() || !f.Fixed || f.Changed {
		t.Errorf("rx-lro = %+v, want fixed, unmet, not written", f)
	}
	if c := r.Conditions(); len(c) != 1 || c[0] != "rx-lro: wanted on, is off and fixed (the NIC does not allow changing it)" {
		t.Errorf("conditions %q", c)
	}
	assertFeature(t, ns, a, nic.FeatureGRO, false)
}

// assertFeature reads a feature with safchain/ethtool directly, from a socket created
// by a thread inside ns (ethtool ioctls resolve names in the socket's namespace).
func assertFeature(t *testing.T, ns netns.NsHandle, link, feature string, want bool) {
	t.Helper()
	var e *ethtool.Ethtool
	err := testenv.InNetns(ns, func() error {
		var err error
		e, err = ethtool.NewEthtool()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	feats, err := e.Features(link)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := feats[feature]; !ok || got != want {
		t.Errorf("ethtool reads %s %s = %v (present %v), want %v", link, feature, got, ok, want)
	}
}
