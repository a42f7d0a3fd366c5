package netcfg

import (
	"net/netip"
	"slices"
	"testing"
)

var (
	p24  = netip.MustParsePrefix("192.0.2.2/24")
	vip  = netip.MustParsePrefix("192.0.2.100/32")
	dflt = Route{Destination: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1")}
)

func opStrings(ops []Op) []string {
	var out []string
	for _, o := range ops {
		out = append(out, o.String())
	}
	return out
}

func TestPlanFromScratchOrdersOps(t *testing.T) {
	d := Desired{
		Hostname: "lb1",
		Links:    []Link{{Name: "eth0", Addresses: []netip.Prefix{p24, vip}}},
		Routes:   []Route{dflt},
	}
	o := Observed{
		Hostname: "lvsbox", HostnameKnown: true,
		Links:       map[string]LinkState{"eth0": {Name: "eth0", Exists: true}},
		RoutesKnown: true,
	}
	got := opStrings(MakePlan(d, o, Ledger{}).Ops)
	want := []string{
		"set hostname lb1",
		"set link eth0 up",
		"add address 192.0.2.2/24 on eth0",
		"add address 192.0.2.100/32 on eth0",
		"add route 0.0.0.0/0 via 192.0.2.1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ops =\n%q\nwant\n%q", got, want)
	}
}

func TestPlanConvergedIsEmpty(t *testing.T) {
	d := Desired{Hostname: "lb1", Links: []Link{{Name: "eth0", Addresses: []netip.Prefix{p24}}}, Routes: []Route{dflt}}
	o := Observed{Hostname: "lb1", HostnameKnown: true,
		Links:  map[string]LinkState{"eth0": {Name: "eth0", Exists: true, Up: true, Addresses: []netip.Prefix{netip.MustParsePrefix("fe80::1/64"), p24}}},
		Routes: []Route{dflt}, RoutesKnown: true}
	if p := MakePlan(d, o, Ledger{Addresses: []Address{{"eth0", p24}}, Routes: []Route{dflt}}); len(p.Ops)+len(p.ForgetAddresses)+len(p.ForgetRoutes)+len(p.Problems) != 0 {
		t.Fatalf("plan = %+v", p)
	}
}

func TestPlanRemovesOnlyOwned(t *testing.T) {
	foreign := netip.MustParsePrefix("10.9.9.9/8")
	foreignRoute := Route{Destination: netip.MustParsePrefix("10.0.0.0/8"), Gateway: netip.MustParseAddr("192.0.2.9")}
	gone := Address{"eth0", netip.MustParsePrefix("192.0.2.77/32")}
	o := Observed{
		Links: map[string]LinkState{
			"eth0": {Name: "eth0", Exists: true, Up: true, Addresses: []netip.Prefix{p24, vip, foreign}},
			"eth9": {Name: "eth9"}, // vanished
		},
		Routes: []Route{dflt, foreignRoute}, RoutesKnown: true,
	}
	owned := Ledger{
		Addresses: []Address{{"eth0", p24}, {"eth0", vip}, gone, {"eth9", p24}},
		Routes:    []Route{dflt, {Destination: netip.MustParsePrefix("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1")}},
	}
	// Desired keeps only p24: vip and the default route were ours and go; the foreign
	// address and route stay; entries already gone are forgotten.
	d := Desired{Links: []Link{{Name: "eth0", Addresses: []netip.Prefix{p24}}}}
	p := MakePlan(d, o, owned)
	want := []string{"delete route 0.0.0.0/0 via 192.0.2.1", "delete address 192.0.2.100/32 on eth0"}
	if got := opStrings(p.Ops); !slices.Equal(got, want) {
		t.Fatalf("ops = %q, want %q", got, want)
	}
	if !slices.Equal(p.ForgetAddresses, []Address{gone, {"eth9", p24}}) || len(p.ForgetRoutes) != 1 {
		t.Fatalf("forget = %v / %v", p.ForgetAddresses, p.ForgetRoutes)
	}
}

func TestPlanUnknownPartsPlanNothing(t *testing.T) {
	d := Desired{Hostname: "x", Links: []Link{{Name: "eth0", Addresses: []netip.Prefix{p24}}, {Name: "eth1"}}, Routes: []Route{dflt}}
	o := Observed{Links: map[string]LinkState{"eth1": {Name: "eth1"}}} // eth0 unobserved, eth1 missing
	p := MakePlan(d, o, Ledger{Addresses: []Address{{"eth0", vip}}, Routes: []Route{dflt}})
	if len(p.Ops) != 0 || len(p.ForgetAddresses) != 0 || len(p.ForgetRoutes) != 0 {
		t.Fatalf("plan without observations = %+v", p)
	}
	if len(p.Problems) != 1 || p.Problems[0].Error() != "netcfg: interface eth1: not found" {
		t.Fatalf("problems = %v", p.Problems)
	}
}

func TestPlanReaddsOwnedAddressRemovedBehindOurBack(t *testing.T) {
	d := Desired{Links: []Link{{Name: "eth0", Addresses: []netip.Prefix{p24}}}}
	o := Observed{Links: map[string]LinkState{"eth0": {Name: "eth0", Exists: true, Up: true}}}
	p := MakePlan(d, o, Ledger{Addresses: []Address{{"eth0", p24}}})
	if got := opStrings(p.Ops); !slices.Equal(got, []string{"add address 192.0.2.2/24 on eth0"}) || len(p.ForgetAddresses) != 0 {
		t.Fatalf("plan = %q forget %v", got, p.ForgetAddresses)
	}
}
