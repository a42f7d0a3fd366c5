package importer

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
)

func TestNames(t *testing.T) {
	if got := ServiceName(config.ProtocolUDP, netip.MustParseAddr("2001:db8::53"), 53); got != "udp-2001_db8__53-53" {
		t.Errorf("ServiceName = %q", got)
	}
	if got := FwmarkName(7, config.FamilyIPv6); got != "fwmark-7-ipv6" {
		t.Errorf("FwmarkName = %q", got)
	}
	n := Namer{}
	if got := []string{n.Unique("a"), n.Unique("a"), n.Unique("a"), n.Unique("a-2")}; strings.Join(got, " ") != "a a-2 a-3 a-2-2" {
		t.Errorf("Unique = %v", got)
	}
	for in, want := range map[string]string{"VI_1": "VI_1", "实例 1": "---1", "": "unnamed", strings.Repeat("x", 70): strings.Repeat("x", 64)} {
		got, changed := SafeName(in)
		if got != want || changed != (in != want) {
			t.Errorf("SafeName(%q) = %q, %v", in, got, changed)
		}
	}
}

func TestFinishPointsIntoTheSource(t *testing.T) {
	c := config.Config{VirtualServices: []config.VirtualService{{Name: "web", Address: netip.MustParseAddr("192.0.2.1"), Port: 80, Scheduler: "bogus"}}}
	o := Origins{}
	o.Set("virtual_services[web]", Pos{File: "k.conf", Line: 7})
	notes := Finish(c, nil, o)
	var errs, warns int
	for _, n := range notes {
		switch n.Severity {
		case Error:
			errs++
			if n.Keyword != "virtual_services[web].scheduler" || n.At() != (Pos{File: "k.conf", Line: 7}) || !strings.Contains(n.Message, "does not validate") {
				t.Errorf("error note %v", n)
			}
		case Warning:
			warns++
		}
	}
	if errs != 1 || warns != 1 || !HasErrors(notes) || CountUnmapped(notes) != 0 {
		t.Errorf("notes:\n%s", Format(notes))
	}
	if got := o.Lookup("nothing[1].x"); got != (Pos{}) {
		t.Errorf("Lookup of an unknown path = %v", got)
	}
}

func TestNoteString(t *testing.T) {
	var ns Notes
	ns.Unmapped(Pos{File: "f", Line: 3}, Warning, "kw", "not mapped: %s", "why")
	ns.Add(Pos{}, Info, "", "plain")
	if got := Format(ns); got != "f:3: kw: not mapped: why (warning, unmapped)\nplain (info)\n" {
		t.Errorf("Format = %q", got)
	}
}

func TestInterfaces(t *testing.T) {
	var x Interfaces
	if !x.Ensure("eth0") || x.Ensure("eth0") || x.Ensure("lo") || x.Ensure("") {
		t.Error("Ensure")
	}
	p := netip.MustParsePrefix("192.0.2.1/24")
	if !x.AddAddress("eth1", p) || x.AddAddress("eth1", p) {
		t.Error("AddAddress")
	}
	if l := x.List(); len(l) != 2 || l[1].Name != "eth1" || l[1].Role != config.RoleData || len(l[1].Addresses) != 1 {
		t.Errorf("List = %+v", l)
	}
}
