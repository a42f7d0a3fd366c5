package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/nic"
	"github.com/lvsbox/lvsbox/appliance/nic/nictest"
)

// virtioLink is a virtio-net NIC as seen in a QEMU guest: GRO and hardware GRO on
// and changeable, LRO off and fixed.
func virtioLink() nictest.Link {
	return nictest.Link{MTU: 1500, AdminUp: true, Features: map[string]nic.FeatureState{
		nic.FeatureGRO:   {Active: true},
		nic.FeatureLRO:   {Active: true, Fixed: true}, // a NIC that cannot turn LRO off
		nic.FeatureGROHW: {Active: true},
	}}
}

func TestNICTuningAppliesReportsAndRepairs(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, strings.Replace(draft, `{"name": "eth1", "addresses": ["198.51.100.1/24"]}`,
		`{"name": "eth1", "role": "management", "mtu": 9000, "addresses": ["198.51.100.1/24"]}`, 1))
	f := nictest.NewFake(map[string]nictest.Link{"eth0": virtioLink(), "eth1": virtioLink()})
	clk, ev := &clock{t: time.Unix(1e9, 0)}, &recorder{}
	e := tunedDaemon(b, clk, ev)
	e.o.NIC = func() (nic.Kernel, error) { return f, nil }
	res := pass(t, e)
	want := []string{"eth0 rx-gro-hw=false", "eth0 rx-gro=false", "eth1 mtu 9000"}
	got := f.Writes()
	slices.Sort(got)
	if !slices.Equal(got, want) || len(res.Errors) != 0 {
		t.Fatalf("nic writes %q (errors %v)", got, res.Errors)
	}
	st := e.Status().NICs
	if len(st) != 2 || st[0].Name != "eth0" || len(st[0].Conditions) != 1 || !strings.Contains(st[0].Conditions[0], "rx-lro: wanted off, is on and fixed") ||
		st[1].MTU != 9000 || len(st[1].Features) != 0 {
		t.Fatalf("nic status = %+v", st)
	}
	// A fixed feature is a condition, not an error, and nothing is rewritten.
	if res := pass(t, e); res.Writes != 0 || len(res.Errors) != 0 || len(f.Writes()) != 3 {
		t.Fatalf("second pass: %+v %q", res, f.Writes())
	}
	f.Set("eth0", nic.FeatureGRO, true) // ethtool -K eth0 gro on
	res = pass(t, e)
	if !res.Drift || !slices.Contains(res.TuneOps, "nic eth0: rx-gro on -> off") || len(ev.all()) != 1 {
		t.Fatalf("drift: %+v events %q", res, ev.all())
	}
}
