package rshelper

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func reals(s ...string) []RealServer {
	var out []RealServer
	for _, a := range addrs(s...) {
		out = append(out, RealServer{Address: a})
	}
	return out
}

var box = Box{Name: "lb1"}

// goldenServices are the services whose scripts are kept in testdata/<file>.golden.
var goldenServices = []Service{
	{Name: "web", Protocol: "tcp", Port: 80, VIPs: addrs("192.0.2.100"), Forwarding: DR,
		RealServers: reals("192.0.2.12", "192.0.2.11")},
	{Name: "web6", Protocol: "tcp", Port: 443, VIPs: addrs("2001:db8::100"), Forwarding: DR,
		RealServers: reals("2001:db8::11")},
	{Name: "dns", Protocol: "udp", Port: 53, VIPs: addrs("203.0.113.53"), Forwarding: TUN,
		RealServers: reals("198.51.100.11", "198.51.100.12")},
	{Name: "dns6", Protocol: "udp", Port: 53, VIPs: addrs("2001:db8::53"), Forwarding: TUN, Tunnel: "ipip",
		RealServers: reals("2001:db8:1::11")},
}

func TestGolden(t *testing.T) {
	for _, svc := range goldenServices {
		scripts, err := Scripts(box, svc)
		if err != nil {
			t.Fatal(err)
		}
		if len(scripts) != 1 {
			t.Fatalf("%s: %d scripts", svc.Name, len(scripts))
		}
		s := scripts[0]
		golden := filepath.Join("testdata", s.FileName+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(s.Text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGolden -update ./appliance/rshelper/)", err)
		}
		if s.Text != string(want) {
			t.Errorf("%s differs from %s (rerun with -update after checking the change)", s.FileName, golden)
		}
	}
}

func TestScriptsAreValidShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to check the syntax with")
	}
	for _, svc := range goldenServices {
		scripts, err := Scripts(box, svc)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range scripts {
			cmd := exec.Command(sh, "-n")
			cmd.Stdin = strings.NewReader(s.Text)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: sh -n: %v: %s", s.FileName, err, out)
			}
		}
	}
}

func TestScriptsGroups(t *testing.T) {
	svc := Service{Name: "mark web", Fwmark: 7, VIPs: addrs("192.0.2.100", "2001:db8::100", "192.0.2.100"), Forwarding: DR,
		RealServers: []RealServer{
			{Address: netip.MustParseAddr("192.0.2.11")},
			{Address: netip.MustParseAddr("2001:db8::11")},
			{Address: netip.MustParseAddr("198.51.100.11"), Forwarding: TUN},
			{Address: netip.MustParseAddr("198.51.100.12"), Forwarding: NAT},
			{Address: netip.MustParseAddr("192.0.2.11")},
		}}
	scripts, err := Scripts(box, svc)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, s := range scripts {
		files = append(files, s.FileName)
	}
	if want := []string{"lvsbox-rs-mark_web-dr-ipv4.sh", "lvsbox-rs-mark_web-dr-ipv6.sh", "lvsbox-rs-mark_web-tun.sh"}; !slices.Equal(files, want) {
		t.Fatalf("files %q, want %q", files, want)
	}
	dr4 := scripts[0]
	if !slices.Equal(dr4.RealServers, addrs("192.0.2.11")) || strings.Count(dr4.Text, "add_addr lo 192.0.2.100/32") != 1 {
		t.Errorf("dr ipv4 script: reals %v\n%s", dr4.RealServers, dr4.Text)
	}
	if strings.Contains(dr4.Text, "2001:db8") || strings.Contains(dr4.Text, "198.51.100.12") {
		t.Error("ipv4 DR script mentions the IPv6 VIP or the NAT real server")
	}
	if !strings.Contains(dr4.Text, "service:      mark_web (fwmark 7, VIPs 192.0.2.100)") {
		t.Errorf("header:\n%s", dr4.Text[:400])
	}
	if !strings.Contains(scripts[1].Text, "add_addr lo 2001:db8::100/128") || strings.Contains(scripts[1].Text, "arp_ignore") {
		t.Error("ipv6 DR script: VIP missing or ARP settings present")
	}
	if !strings.Contains(scripts[2].Text, "add_addr tunl0 192.0.2.100/32") {
		t.Error("tun script lacks the VIP on tunl0")
	}
}

func TestScriptsErrors(t *testing.T) {
	cases := []struct {
		name string
		svc  Service
		want string
	}{
		{"nat only", Service{Name: "n", VIPs: addrs("192.0.2.1"), Forwarding: NAT, RealServers: reals("198.51.100.1")},
			"service n: no DR or TUN real servers"},
		{"no reals", Service{Name: "e", VIPs: addrs("192.0.2.1"), Forwarding: DR}, "service e: no DR or TUN real servers"},
		{"gre", Service{Name: "g", VIPs: addrs("192.0.2.1"), Forwarding: TUN, Tunnel: "gre", RealServers: reals("198.51.100.1")},
			"real server 198.51.100.1: tunnel gre: the helper writes scripts for ipip tunnels only"},
		{"family", Service{Name: "f", VIPs: addrs("192.0.2.1"), Forwarding: DR, RealServers: reals("2001:db8::1")},
			"service f: no ipv6 VIP for its ipv6 real servers [2001:db8::1]"},
		{"fwmark without VIPs", Service{Name: "m", Fwmark: 1, Forwarding: DR, RealServers: reals("192.0.2.1")},
			"service m: no ipv4 VIP"},
		{"bad forwarding", Service{Name: "b", VIPs: addrs("192.0.2.1"), Forwarding: "masq", RealServers: reals("192.0.2.1")},
			`unknown forwarding "masq"`},
		{"no name", Service{VIPs: addrs("192.0.2.1"), Forwarding: DR, RealServers: reals("192.0.2.1")}, "service without a name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Scripts(box, c.svc)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			if strings.HasPrefix(c.name, "n") && c.name != "no name" && !errors.Is(err, ErrNoScript) {
				t.Errorf("%v does not wrap ErrNoScript", err)
			}
		})
	}
}

func TestNamesAreSanitised(t *testing.T) {
	s, err := Scripts(Box{Name: "lb\n rm -rf /"}, Service{Name: "x$(reboot)\n", Protocol: "tcp", Port: 80,
		VIPs: addrs("192.0.2.1"), Forwarding: DR, RealServers: reals("192.0.2.2")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s[0].Text, "$(reboot)") || strings.Contains(s[0].Text, "\n rm") || s[0].FileName != "lvsbox-rs-x__reboot__-dr.sh" {
		t.Errorf("unsanitised names: %s\n%s", s[0].FileName, s[0].Text[:300])
	}
}
