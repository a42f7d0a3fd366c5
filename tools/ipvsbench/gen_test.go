package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("1000x10, 10000x4")
	if err != nil || len(got) != 2 || got[0] != (Size{1000, 10}) || got[1] != (Size{10000, 4}) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"", "10", "x4", "0x1", "10x-1", "axb"} {
		if _, err := ParseSizes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTableIsDistinct(t *testing.T) {
	tab := Table(Size{300, 4})
	if Objects(tab) != 1500 {
		t.Fatalf("objects %d", Objects(tab))
	}
	vips, reals := map[ipvs.ServiceKey]bool{}, map[netip.Addr]bool{}
	for _, s := range tab {
		vips[s.Key] = true
		for _, d := range s.Destinations {
			reals[d.Key.Addr] = true
		}
	}
	if len(vips) != 300 || len(reals) != 1200 {
		t.Fatalf("%d distinct services, %d distinct reals", len(vips), len(reals))
	}
	if tab[0].Key.Addr.String() != "10.64.0.1" || tab[255].Key.Addr.String() != "10.64.1.0" {
		t.Errorf("addresses %s %s", tab[0].Key.Addr, tab[255].Key.Addr)
	}
	if d := ipvs.Diff(tab, tab); len(d) != 0 {
		t.Errorf("table differs from itself: %v", d)
	}
}

func TestIpvsadmRules(t *testing.T) {
	got, err := IpvsadmRules(Table(Size{2, 2}))
	if err != nil {
		t.Fatal(err)
	}
	want := `-A -t 10.64.0.1:80 -s wlc
-a -t 10.64.0.1:80 -r 172.16.0.1:8080 -m -w 1
-a -t 10.64.0.1:80 -r 172.16.0.2:8080 -m -w 1
-A -t 10.64.0.2:80 -s wlc
-a -t 10.64.0.2:80 -r 172.16.0.3:8080 -m -w 1
-a -t 10.64.0.2:80 -r 172.16.0.4:8080 -m -w 1
`
	if got != want {
		t.Fatalf("rules:\n%s\nwant:\n%s", got, want)
	}
	more := []ipvs.ServiceState{
		{Service: ipvs.Service{Key: ipvs.AddrKey(ipvs.UDP, netip.MustParseAddr("2001:db8::1"), 53), Scheduler: "sh",
			Flags: ipvs.FlagPersistent, Timeout: 60, Netmask: 64},
			Destinations: []ipvs.Destination{{Key: ipvs.DestinationKey{Addr: netip.MustParseAddr("2001:db8::5"), Port: 53},
				Forwarding: ipvs.DirectRoute, Weight: 2, UpperThreshold: 10, LowerThreshold: 5}}},
		{Service: ipvs.Service{Key: ipvs.MarkKey(4, 7), Scheduler: "rr", Flags: ipvs.FlagPersistent, Timeout: 300, Netmask: 24},
			Destinations: []ipvs.Destination{{Key: ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.2")}, Forwarding: ipvs.Tunnel, Weight: 1}}},
	}
	got, err = IpvsadmRules(more)
	if err != nil {
		t.Fatal(err)
	}
	want = `-A -u [2001:db8::1]:53 -s sh -p 60 -M 64
-a -u [2001:db8::1]:53 -r [2001:db8::5]:53 -g -w 2 -x 10 -y 5
-A -f 7 -s rr -p 300 -M 255.255.255.0
-a -f 7 -r 198.51.100.2:0 -i -w 1
`
	if got != want {
		t.Fatalf("rules:\n%s\nwant:\n%s", got, want)
	}
	bad := []ipvs.ServiceState{{Service: ipvs.Service{Key: ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("192.0.2.1"), 80)},
		Destinations: []ipvs.Destination{{Forwarding: ipvs.Local}}}}
	if _, err := IpvsadmRules(bad); err == nil || !strings.Contains(err.Error(), "local") {
		t.Errorf("local forwarding: %v", err)
	}
}
