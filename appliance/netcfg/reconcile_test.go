package netcfg_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/netcfg"
	"github.com/lvsbox/lvsbox/appliance/netcfg/netcfgtest"
)

var (
	addr24 = netip.MustParsePrefix("192.0.2.2/24")
	vip    = netip.MustParsePrefix("192.0.2.100/32")
	dflt   = netcfg.Route{Destination: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1")}
)

type rig struct {
	host *netcfgtest.Host
	uts  *netcfgtest.UTS
	run  string
}

func newRig(t *testing.T) *rig {
	return &rig{
		host: netcfgtest.NewHost("eth0", "eth1"),
		uts:  &netcfgtest.UTS{Name: "lvsbox"},
		run:  t.TempDir(),
	}
}

// pass runs a fresh Reconciler (as a restarted daemon would) and returns its result.
func (r *rig) pass(t *testing.T, d netcfg.Desired) netcfg.Result {
	t.Helper()
	r.host.ResetWrites()
	rec := &netcfg.Reconciler{Host: r.host, UTS: r.uts, RunDir: r.run}
	res, err := rec.Reconcile(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func desired() netcfg.Desired {
	return netcfg.Desired{
		Hostname: "lb1",
		Links:    []netcfg.Link{{Name: "eth0", Addresses: []netip.Prefix{addr24, vip}}},
		Routes:   []netcfg.Route{dflt},
	}
}

func TestReconcileAppliesThenIsIdle(t *testing.T) {
	r := newRig(t)
	res := r.pass(t, desired())
	if res.Writes != 5 || len(res.Errors) != 0 {
		t.Fatalf("first pass: writes=%d errors=%v ops=%v", res.Writes, res.Errors, res.Ops)
	}
	if st := r.host.State("eth0"); !st.Up || !slices.Equal(st.Addresses, []netip.Prefix{addr24, vip}) {
		t.Fatalf("eth0 = %+v", st)
	}
	if r.uts.Name != "lb1" {
		t.Fatal("hostname not applied")
	}
	// A restarted daemon (fresh Reconciler, same run dir) has nothing to do.
	if res := r.pass(t, desired()); res.Writes != 0 || len(res.Errors) != 0 {
		t.Fatalf("second pass: writes=%d %q errors=%v", res.Writes, r.host.Writes(), res.Errors)
	}
}

func TestReconcileRemovesOnlyWhatItAdded(t *testing.T) {
	r := newRig(t)
	foreign := netip.MustParsePrefix("192.0.2.50/24")
	r.host.AddForeignAddress("eth0", foreign)
	r.host.AddForeignAddress("eth0", vip) // present before lvsbox: not ours
	foreignRoute := netcfg.Route{Destination: netip.MustParsePrefix("10.0.0.0/8"), Gateway: netip.MustParseAddr("192.0.2.9")}
	r.host.AddForeignRoute(foreignRoute)
	r.pass(t, desired())

	// The config drops everything.
	res := r.pass(t, netcfg.Desired{})
	want := []string{"delete route 0.0.0.0/0 via 192.0.2.1", "delete address 192.0.2.2/24 on eth0"}
	if got := r.host.Writes(); !slices.Equal(got, want) {
		t.Fatalf("writes = %q, want %q (errors %v)", got, want, res.Errors)
	}
	if st := r.host.State("eth0"); !slices.Equal(st.Addresses, []netip.Prefix{foreign, vip}) {
		t.Fatalf("eth0 addresses = %v", st.Addresses)
	}
	if !slices.Equal(r.host.RouteTable(), []netcfg.Route{foreignRoute}) {
		t.Fatalf("routes = %v", r.host.RouteTable())
	}
	// The ledger is now empty.
	data, err := os.ReadFile(filepath.Join(r.run, netcfg.LedgerFile))
	if err != nil || strings.Contains(string(data), "192.0.2") {
		t.Fatalf("ledger = %s, %v", data, err)
	}
}

func TestReconcileRepairsDriftAndReportsErrors(t *testing.T) {
	r := newRig(t)
	r.pass(t, desired())
	r.host.RemoveAddress("eth0", vip)
	d := desired()
	d.Links = append(d.Links, netcfg.Link{Name: "eth7", Addresses: []netip.Prefix{netip.MustParsePrefix("203.0.113.1/24")}})
	d.Routes = append(d.Routes, netcfg.Route{Destination: netip.MustParsePrefix("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.254")})
	r.host.Fail("add route 198.51.100.0/24 via 192.0.2.254", syscall.ENETUNREACH)
	res := r.pass(t, d)
	if got := r.host.Writes(); !slices.Equal(got, []string{"add address 192.0.2.100/32 on eth0", "add route 198.51.100.0/24 via 192.0.2.254"}) {
		t.Fatalf("writes = %q", got)
	}
	if len(res.Errors) != 2 || !strings.Contains(res.Errors[0].Error(), "eth7: not found") || !errors.Is(res.Errors[1], syscall.ENETUNREACH) {
		t.Fatalf("errors = %v", res.Errors)
	}
	// The failed route is not in the ledger, so dropping it later deletes nothing.
	r.host.Fail("add route 198.51.100.0/24 via 192.0.2.254", nil)
	r.pass(t, desired())
	if got := r.host.Writes(); len(got) != 0 {
		t.Fatalf("writes = %q", got)
	}
}

func TestReconcileCorruptLedgerRemovesNothing(t *testing.T) {
	r := newRig(t)
	r.pass(t, desired())
	if err := os.WriteFile(filepath.Join(r.run, netcfg.LedgerFile), []byte("{nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := r.pass(t, netcfg.Desired{})
	if len(r.host.Writes()) != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "corrupt") {
		t.Fatalf("writes %q errors %v", r.host.Writes(), res.Errors)
	}
}
