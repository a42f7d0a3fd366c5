package sysctl

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func values(t *testing.T, in Input) map[string]Setting {
	t.Helper()
	s, err := Desired(in)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Setting{}
	for _, x := range s {
		if _, dup := m[x.Key]; dup {
			t.Fatalf("duplicate key %s", x.Key)
		}
		if x.Reason == "" {
			t.Errorf("%s has no reason", x.Key)
		}
		m[x.Key] = x
	}
	return m
}

func addr(s string) netip.Addr     { return netip.MustParseAddr(s) }
func prefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

var ifaces = []Interface{
	{Name: "eth0", Addresses: []netip.Prefix{prefix("192.0.2.2/24"), prefix("192.0.2.100/32")}},
	{Name: "eth1", Addresses: []netip.Prefix{prefix("198.51.100.1/24")}},
	{Name: "eth1.100", Addresses: []netip.Prefix{prefix("203.0.113.1/24")}},
}

func TestDesiredNoServices(t *testing.T) {
	m := values(t, Input{Interfaces: ifaces})
	want := map[string]string{
		KeyVSConntrack: "0", KeyVSExpireNodestConn: "1", KeyVSExpireQuiescentTemplate: "1",
		KeyVSConnReuseMode: "1", KeyVSSloppyTCP: "0", KeyVSSloppySCTP: "0", KeyVSBackupOnly: "0",
		"net.ipv4.neigh.default.gc_thresh1": "128", "net.ipv4.neigh.default.gc_thresh2": "512",
		"net.ipv4.neigh.default.gc_thresh3": "1024",
	}
	if len(m) != len(want) {
		t.Errorf("got %d settings, want %d: %v", len(m), len(want), m)
	}
	for k, v := range want {
		if m[k].Value != v || m[k].Source != Computed {
			t.Errorf("%s = %+v, want %s", k, m[k], v)
		}
	}
}

func TestDesiredModes(t *testing.T) {
	in := Input{
		Interfaces: ifaces,
		Services: []Service{
			{Name: "web", VIP: addr("192.0.2.100"), Protocol: "tcp", Scheduler: "wrr", Forwarding: NAT,
				RealServers: []RealServer{{Address: addr("198.51.100.11")}, {Address: addr("198.51.100.12"), Forwarding: DR}}},
			{Name: "dns", VIP: addr("203.0.113.53"), Protocol: "udp", Scheduler: "mh", Forwarding: TUN,
				RealServers: []RealServer{{Address: addr("198.51.100.11")}}},
			{Name: "v6", VIP: addr("2001:db8::100"), Protocol: "tcp", Scheduler: "rr", Forwarding: NAT,
				RealServers: []RealServer{{Address: addr("2001:db8:1::11")}}},
			{Name: "mark", IPv6: false, Scheduler: "mh", Forwarding: DR},
		},
	}
	m := values(t, in)
	for k, v := range map[string]string{
		KeyIPv4Forward:                        "1",
		KeyIPv6Forward:                        "1",
		"net.ipv4.conf.eth0.rp_filter":        "2",
		"net.ipv4.conf.eth0.arp_ignore":       "1",
		"net.ipv4.conf.eth0.arp_announce":     "2",
		"net.ipv4.conf.eth0.arp_notify":       "1",
		"net.ipv4.conf.eth1/100.rp_filter":    "2", // dns VIP in eth1.100's subnet
		KeyVSConnReuseMode:                    "2", // DR and TUN in use
		KeyVSSloppyTCP:                        "1", // mark is mh, any protocol
		KeyVSSloppySCTP:                       "1",
		"net.ipv6.neigh.default.gc_thresh1":   "128",
		"net.ipv4.neigh.default.gc_thresh1":   "128",
		"net.ipv4.conf.eth1/100.arp_notify":   "1",
		"net.ipv4.conf.eth1/100.arp_announce": "2",
		"net.ipv4.conf.eth1/100.arp_ignore":   "1",
		"net.ipv4.neigh.default.gc_thresh3":   "1024",
		"net.ipv6.neigh.default.gc_thresh2":   "512",
		KeyVSExpireNodestConn:                 "1",
		KeyVSExpireQuiescentTemplate:          "1",
		KeyVSBackupOnly:                       "0",
		KeyVSConntrack:                        "0",
		"net.ipv6.neigh.default.gc_thresh3":   "1024",
		"net.ipv4.neigh.default.gc_thresh2":   "512",
	} {
		if got := m[k]; got.Value != v {
			t.Errorf("%s = %q, want %q", k, got.Value, v)
		}
	}
	for _, k := range []string{"net.ipv4.conf.eth1.rp_filter", "net.ipv4.conf.eth1.arp_ignore"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s set although eth1 carries no VIP", k)
		}
	}
	if r := m[KeyIPv4Forward].Reason; !strings.Contains(r, "NAT services (web)") {
		t.Errorf("ip_forward reason %q does not name the service", r)
	}
	if r := m[KeyVSSloppyTCP].Reason; !strings.Contains(r, "services (mark):") {
		t.Errorf("sloppy_tcp reason %q", r)
	}
}

func TestDesiredDROnlyNeedsNoForwarding(t *testing.T) {
	m := values(t, Input{Interfaces: ifaces, Services: []Service{
		{Name: "web", VIP: addr("192.0.2.100"), Protocol: "tcp", Scheduler: "wlc", Forwarding: DR,
			RealServers: []RealServer{{Address: addr("192.0.2.11")}}},
	}})
	if _, ok := m[KeyIPv4Forward]; ok {
		t.Error("ip_forward computed for a DR-only service")
	}
	if m[KeyVSSloppyTCP].Value != "0" || m[KeyVSConnReuseMode].Value != "2" {
		t.Errorf("sloppy_tcp %q conn_reuse_mode %q", m[KeyVSSloppyTCP].Value, m[KeyVSConnReuseMode].Value)
	}
	if _, ok := m["net.ipv6.neigh.default.gc_thresh1"]; ok {
		t.Error("IPv6 neighbour thresholds without IPv6 services")
	}
}

func TestDesiredGCThresholds(t *testing.T) {
	for _, c := range []struct{ reals, t1 int }{{0, 128}, {64, 128}, {65, 256}, {1000, 2048}, {10000, 32768}} {
		var reals []RealServer
		for i := range c.reals {
			reals = append(reals, RealServer{Address: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})})
		}
		// The same real server in two services counts once.
		svcs := []Service{{Name: "a", VIP: addr("192.0.2.100"), Forwarding: NAT, RealServers: reals},
			{Name: "b", VIP: addr("192.0.2.101"), Forwarding: NAT, RealServers: reals}}
		m := values(t, Input{Services: svcs})
		for i, mult := range []int{1, 4, 8} {
			key := fmt.Sprintf("net.ipv4.neigh.default.gc_thresh%d", i+1)
			if got, want := m[key].Value, fmt.Sprint(c.t1*mult); got != want {
				t.Errorf("%d reals: %s = %s, want %s", c.reals, key, got, want)
			}
		}
	}
}

func TestDesiredIPVSOptions(t *testing.T) {
	m := values(t, Input{IPVS: IPVS{Conntrack: true, SyncDaemon: true}})
	if m[KeyVSConntrack].Value != "1" || !strings.Contains(m[KeyVSBackupOnly].Reason, "master and backup") {
		t.Errorf("conntrack %+v backup_only %+v", m[KeyVSConntrack], m[KeyVSBackupOnly])
	}
}

func TestDesiredOverrides(t *testing.T) {
	m := values(t, Input{Overrides: map[string]string{
		KeyVSExpireNodestConn:          "0",
		"net.core.somaxconn":           " 4096 ",
		"net.ipv4.ip_local_port_range": "1024 65000",
	}})
	if s := m[KeyVSExpireNodestConn]; s.Value != "0" || s.Source != Override || !strings.Contains(s.Reason, "lvsbox would set 1") {
		t.Errorf("override of a computed key: %+v", s)
	}
	if s := m["net.core.somaxconn"]; s.Value != "4096" || s.Source != Override || s.Reason != "user override" {
		t.Errorf("plain override: %+v", s)
	}

	_, err := Desired(Input{Overrides: map[string]string{
		"net.ipv4..x": "1", "net.ipv4.ip forward": "1", "net.core.somaxconn": "", "kernel.x": "1\n2", "net.ok": "1",
	}})
	if err == nil {
		t.Fatal("bad overrides accepted")
	}
	for _, want := range []string{`"net.ipv4..x": bad key`, `"net.ipv4.ip forward": bad key`,
		"net.core.somaxconn: empty value", "kernel.x: value must be one line"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "net.ok") {
		t.Errorf("error names a good key: %v", err)
	}
}

func TestDesiredOrder(t *testing.T) {
	s, err := Desired(Input{Interfaces: ifaces, Services: []Service{
		{Name: "v6", VIP: addr("192.0.2.100"), Forwarding: NAT, RealServers: []RealServer{{Address: addr("2001:db8::1")}}},
	}, Overrides: map[string]string{"net.ipv6.conf.eth0.forwarding": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, x := range s {
		pos[x.Key] = i
	}
	// Writing net.ipv6.conf.all.forwarding resets every interface's value: the
	// per-interface override must come after it.
	if pos[KeyIPv6Forward] > pos["net.ipv6.conf.eth0.forwarding"] || pos[KeyVSConntrack] > pos[KeyIPv6Forward] {
		t.Errorf("order: %v", s)
	}
}

func TestKeys(t *testing.T) {
	for key, want := range map[string]string{
		"net.ipv4.ip_forward":                    "net/ipv4/ip_forward",
		"net.ipv4.conf.eth0/100.rp_filter":       "net/ipv4/conf/eth0.100/rp_filter",
		ConfKey("ipv4", "bond0.7", "arp_ignore"): "net/ipv4/conf/bond0.7/arp_ignore",
	} {
		if got, err := Path(key); err != nil || got != want {
			t.Errorf("Path(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	for _, bad := range []string{"", "net..x", ".net", "net.", "net.//.x", "net.a=b", "net.\tx", strings.Repeat("a", 257)} {
		if err := ValidKey(bad); err == nil {
			t.Errorf("ValidKey(%q) = nil", bad)
		}
	}
	if ifname, ok := interfaceOf("net.ipv4.conf.eth0/100.rp_filter"); !ok || ifname != "eth0.100" {
		t.Errorf("interfaceOf = %q %v", ifname, ok)
	}
	if _, ok := interfaceOf("net.ipv4.conf.all.rp_filter"); ok {
		t.Error("interfaceOf(all) is an interface")
	}
}
