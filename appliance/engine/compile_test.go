package engine

import (
	"net/netip"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

func TestCompile(t *testing.T) {
	c, err := config.DecodeBytes([]byte(draft))
	if err != nil {
		t.Fatal(err)
	}
	d := Compile(c)
	if d.Net.Hostname != "lb1" || len(d.Net.Links) != 2 || len(d.Net.Links[0].Addresses) != 2 || len(d.Net.Routes) != 1 {
		t.Fatalf("net = %+v", d.Net)
	}
	if fwd := forwardSysctls(t, d); fwd != "net.ipv4.ip_forward" {
		t.Fatalf("forwarding sysctls = %q", fwd)
	}
	if len(d.IPVS) != 2 {
		t.Fatalf("ipvs = %+v", d.IPVS)
	}
	web, dns := d.IPVS[0], d.IPVS[1]
	wantWeb := ipvs.Service{Key: ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("192.0.2.100"), 80), Scheduler: "wrr", Netmask: 32}
	if web.Service != wantWeb || len(web.Destinations) != 2 || web.Destinations[0].Weight != 3 || web.Destinations[0].Forwarding != ipvs.NAT {
		t.Fatalf("web = %+v", web)
	}
	// Defaults: scheduler wlc, forwarding dr, weight 1, port = service port.
	want := ipvs.Destination{Key: ipvs.DestinationKey{Addr: netip.MustParseAddr("192.0.2.53"), Port: 53}, Forwarding: ipvs.DirectRoute, Weight: 1}
	if dns.Key.Protocol != ipvs.UDP || dns.Scheduler != "wlc" || dns.Destinations[0] != want {
		t.Fatalf("dns = %+v", dns)
	}
	if d.Names[web.Key] != "web" || d.Names[dns.Key] != "dns" {
		t.Fatalf("names = %v", d.Names)
	}

	v6 := config.Config{VirtualServices: []config.VirtualService{{Name: "v6", Address: netip.MustParseAddr("2001:db8::100"), Port: 443,
		RealServers: []config.RealServer{{Address: netip.MustParseAddr("2001:db8::11"), Forwarding: config.ForwardingNAT}}}}}
	d = Compile(v6)
	if fwd := forwardSysctls(t, d); d.IPVS[0].Netmask != 128 || fwd != "net.ipv6.conf.all.forwarding" {
		t.Fatalf("v6 compile: %+v %v", d.IPVS[0], fwd)
	}
	if d := Compile(config.Config{}); len(d.IPVS)+len(d.Net.Links)+len(d.Net.Routes)+len(d.NICs) != 0 || d.Net.Hostname != "" || forwardSysctls(t, d) != "" {
		t.Fatalf("empty config compiles to %+v", d)
	}
}

// TestCompileAdminStateFwmarkRoutes covers the parts of the grown model that
// Compile already maps: fwmark keys, admin states, and which routes netcfg gets.
func TestCompileAdminStateFwmarkRoutes(t *testing.T) {
	c, err := config.DecodeBytes([]byte(`{
	  "interfaces": [{"name": "eth0", "addresses": ["192.0.2.2/24"]}],
	  "routes": [
	    {"destination": "0.0.0.0/0", "gateway": "192.0.2.1"},
	    {"destination": "10.0.0.0/8", "gateway": "192.0.2.1", "table": 100},
	    {"destination": "172.16.0.0/12", "device": "eth0"}
	  ],
	  "virtual_services": [
	    {"name": "m6", "fwmark": 7, "family": "ipv6", "forwarding": "nat",
	     "real_servers": [{"address": "2001:db8::1"}]},
	    {"name": "web", "address": "192.0.2.100", "port": 80, "real_servers": [
	      {"address": "192.0.2.11", "weight": 5},
	      {"address": "192.0.2.12", "weight": 5, "admin_state": "drain"},
	      {"address": "192.0.2.13", "admin_state": "disabled"}
	    ]}
	  ]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := Compile(c)
	if len(d.Net.Routes) != 1 || d.Net.Routes[0].Destination != netip.MustParsePrefix("0.0.0.0/0") {
		t.Errorf("routes = %+v, want only the main-table gateway route", d.Net.Routes)
	}
	m6 := d.IPVS[0]
	if fwd := forwardSysctls(t, d); m6.Key != ipvs.MarkKey(6, 7) || m6.Netmask != 128 || d.Names[m6.Key] != "m6" || fwd != "net.ipv6.conf.all.forwarding" {
		t.Errorf("fwmark service = %+v (forwarding sysctls %v)", m6, fwd)
	}
	web := d.IPVS[1]
	if len(web.Destinations) != 2 || web.Destinations[0].Weight != 5 || web.Destinations[1].Weight != 0 {
		t.Errorf("admin states: %+v", web.Destinations)
	}
}
