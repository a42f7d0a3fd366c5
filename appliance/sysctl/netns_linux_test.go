package sysctl

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/tools/testenv"
)

// needRoot gates the namespace tests (testenv.NeedRoot) and needs sysctl(8).
func needRoot(t *testing.T) {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedTools(t, "sysctl")
}

func TestReconcileInNetns(t *testing.T) {
	needRoot(t)
	name, ns := testenv.Netns(t, "lvsbox-sc")
	veth := "sv" + testenv.Suffix()
	testenv.IP(t, "-n", name, "link", "add", veth, "type", "veth", "peer", "name", veth+"p")
	nsSysctl := func(args ...string) string {
		t.Helper()
		return testenv.IP(t, append([]string{"netns", "exec", name, "sysctl"}, args...)...)
	}
	nsSysctl("-w", "net.ipv4.ip_forward=0", "net.ipv4.conf."+veth+".rp_filter=1")

	all, err := Desired(Input{
		Interfaces: []Interface{{Name: veth, Addresses: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}}},
		Services: []Service{{Name: "web", VIP: netip.MustParseAddr("192.0.2.100"), Protocol: "tcp", Scheduler: "rr",
			Forwarding: NAT, RealServers: []RealServer{{Address: netip.MustParseAddr("198.51.100.11")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Only namespaced keys: neighbour gc thresholds are global (and not shown in
	// other namespaces); the vs keys are missing on a host without IPVS.
	var settings []Setting
	for _, s := range all {
		if s.Key == KeyIPv4Forward || strings.HasPrefix(s.Key, "net.ipv4.conf.") || s.Key == KeyVSExpireNodestConn {
			settings = append(settings, s)
		}
	}
	_, hostHasVS := os.Stat("/proc/sys/net/ipv4/vs")
	hostForward, err := ProcSys{}.Read(KeyIPv4Forward)
	if err != nil {
		t.Fatal(err)
	}

	rec := &Reconciler{FS: ProcSys{}}
	var res Result
	pass := func() {
		t.Helper()
		if err := testenv.InNetns(ns, func() error { res = rec.Reconcile(context.Background(), settings); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	pass()
	if errors.Is(hostHasVS, os.ErrNotExist) {
		if err := res.Err(); err == nil || !strings.Contains(err.Error(), "sysctl net.ipv4.vs.expire_nodest_conn: not present (is ip_vs loaded?)") {
			t.Errorf("missing vs key: %v", err)
		}
	}
	for _, s := range res.Status {
		if s.Key != KeyVSExpireNodestConn && !s.OK() {
			t.Errorf("%s: %+v", s.Key, s)
		}
	}
	for key, want := range map[string]string{
		KeyIPv4Forward: "1", "net.ipv4.conf." + veth + ".rp_filter": "2",
		"net.ipv4.conf." + veth + ".arp_ignore": "1", "net.ipv4.conf." + veth + ".arp_notify": "1",
	} {
		if got := nsSysctl("-n", key); got != want {
			t.Errorf("in the namespace %s = %q, want %q", key, got, want)
		}
	}
	if v, _ := (ProcSys{}).Read(KeyIPv4Forward); v != hostForward {
		t.Errorf("host ip_forward changed: %s -> %s", hostForward, v)
	}
	if _, err := (ProcSys{}).Read("net.ipv4.conf." + veth + ".rp_filter"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the namespace's interface is visible on the host: %v", err)
	}

	// Drift, made with sysctl(8) inside the namespace, is repaired by the next pass.
	nsSysctl("-w", "net.ipv4.conf."+veth+".rp_filter=1")
	pass()
	rep := res.Repairs()
	if len(rep) != 1 || rep[0].Key != "net.ipv4.conf."+veth+".rp_filter" || rep[0].From != "1" || rep[0].To != "2" {
		t.Errorf("repairs %+v", rep)
	}
	if got := nsSysctl("-n", "net.ipv4.conf."+veth+".rp_filter"); got != "2" {
		t.Errorf("rp_filter after repair = %q", got)
	}
	pass()
	if len(res.Changes) != 0 {
		t.Errorf("no-op pass changed %+v", res.Changes)
	}
}
