package netcfg_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/lvsbox/lvsbox/tools/testenv"

	"github.com/lvsbox/lvsbox/appliance/netcfg"
	"github.com/lvsbox/lvsbox/appliance/netcfg/netcfgtest"
	"github.com/vishvananda/netlink"
)

// throwawayNetns creates a uniquely named namespace, removed when the test ends, and
// returns a netlink handle inside it.
func throwawayNetns(t *testing.T) *netlink.Handle {
	t.Helper()
	_, ns := testenv.Netns(t, "lvsbox-nc")
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func addrsOf(t *testing.T, h *netlink.Handle, link string) []string {
	t.Helper()
	l, err := h.LinkByName(link)
	if err != nil {
		t.Fatal(err)
	}
	as, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		if !a.IP.IsLinkLocalUnicast() {
			out = append(out, a.IPNet.String())
		}
	}
	slices.Sort(out)
	return out
}

func TestNetlinkInThrowawayNetns(t *testing.T) {
	testenv.NeedRoot(t)
	h := throwawayNetns(t)
	// A veth pair (this host's kernel has no dummy driver); the peer is up so that
	// lvsd0 gets a carrier once lvsbox sets it up.
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "lvsd0"}, PeerName: "lvsd1"}); err != nil {
		t.Fatalf("add veth pair: %v", err)
	}
	if peer, err := h.LinkByName("lvsd1"); err != nil || h.LinkSetUp(peer) != nil {
		t.Fatalf("set lvsd1 up: %v", err)
	}
	host := netcfg.NewNetlink(h)
	rec := &netcfg.Reconciler{
		Host:   host,
		UTS:    &netcfgtest.UTS{Name: "host"},
		RunDir: t.TempDir(),
	}
	want := netcfg.Desired{
		Links: []netcfg.Link{{Name: "lvsd0", Addresses: []netip.Prefix{
			netip.MustParsePrefix("192.0.2.2/24"), netip.MustParsePrefix("192.0.2.100/32"), netip.MustParsePrefix("2001:db8::2/64"),
		}}},
		Routes: []netcfg.Route{
			{Destination: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1")},
			{Destination: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1")},
		},
	}
	ctx := context.Background()
	res, err := rec.Reconcile(ctx, want)
	if err != nil || len(res.Errors) != 0 {
		t.Fatalf("first pass: %v %v", err, res.Errors)
	}
	if res.Writes != 6 { // link up, 3 addresses, 2 routes
		t.Fatalf("first pass writes = %d: %v", res.Writes, res.Ops)
	}
	if got := addrsOf(t, h, "lvsd0"); !slices.Equal(got, []string{"192.0.2.100/32", "192.0.2.2/24", "2001:db8::2/64"}) {
		t.Fatalf("addresses = %q", got)
	}
	routes, err := host.Routes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range want.Routes {
		if !slices.Contains(routes, r) {
			t.Errorf("route %s missing from %v", r, routes)
		}
	}
	// Converged: nothing to write.
	if res, _ := rec.Reconcile(ctx, want); res.Writes != 0 || len(res.Errors) != 0 {
		t.Fatalf("second pass: writes=%d ops=%v errors=%v", res.Writes, res.Ops, res.Errors)
	}

	// An address lvsbox did not add survives a config that drops everything.
	l, _ := h.LinkByName("lvsd0")
	foreign, _ := netlink.ParseAddr("203.0.113.9/24")
	if err := h.AddrAdd(l, foreign); err != nil {
		t.Fatal(err)
	}
	keep := netcfg.Desired{Links: []netcfg.Link{{Name: "lvsd0", Addresses: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}}}}
	if res, err := rec.Reconcile(ctx, keep); err != nil || len(res.Errors) != 0 || res.Writes != 4 {
		t.Fatalf("shrink pass: writes=%d ops=%v errors=%v", res.Writes, res.Ops, res.Errors)
	}
	if got := addrsOf(t, h, "lvsd0"); !slices.Equal(got, []string{"192.0.2.2/24", "203.0.113.9/24"}) {
		t.Fatalf("addresses after shrink = %q", got)
	}
	routes, _ = host.Routes(ctx)
	if len(routes) != 0 {
		t.Fatalf("routes after shrink = %v", routes)
	}
}
