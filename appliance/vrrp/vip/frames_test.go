package vip

import (
	"encoding/hex"
	"net"
	"net/netip"
	"testing"
)

func TestGARPFrame(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
	b, err := GARPFrame(mac, netip.MustParseAddr("192.0.2.100"))
	if err != nil {
		t.Fatal(err)
	}
	want := "ffffffffffff" + "02005e100001" + "0806" + // Ethernet
		"0001" + "0800" + "06" + "04" + "0001" + // ARP request, Ethernet/IPv4
		"02005e100001" + "c0000264" + // sender
		"000000000000" + "c0000264" // target
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("frame\n got %s\nwant %s", got, want)
	}
	if _, err := GARPFrame(mac, netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("IPv6 address accepted")
	}
}

func TestNAMessage(t *testing.T) {
	mac := net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x02, 0x07}
	b, err := NAMessage(mac, netip.MustParseAddr("2001:db8::100"))
	if err != nil {
		t.Fatal(err)
	}
	want := "88" + "00" + "0000" + // type 136, code 0, checksum (kernel)
		"20000000" + // R=0 S=0 O=1
		"20010db8000000000000000000000100" + // target
		"02" + "01" + "00005e000207" // target link-layer address option
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("message\n got %s\nwant %s", got, want)
	}
	if _, err := NAMessage(mac, netip.MustParseAddr("192.0.2.1")); err == nil {
		t.Error("IPv4 target accepted")
	}
}

func TestPlanAddrs(t *testing.T) {
	pp := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	vips := pp("192.0.2.100/24", "192.0.2.101/32")
	existing := pp("192.0.2.2/24", "192.0.2.101/24")
	p := PlanAddrs(true, vips, existing)
	if len(p.Add) != 1 || p.Add[0] != vips[0] || len(p.Del) != 0 {
		t.Errorf("master plan %+v", p)
	}
	p = PlanAddrs(false, vips, existing)
	if len(p.Add) != 0 || len(p.Del) != 1 || p.Del[0] != existing[1] {
		t.Errorf("backup plan %+v (must delete the address as it exists)", p)
	}
	if !PlanAddrs(false, vips, pp("192.0.2.2/24")).Empty() {
		t.Error("backup with nothing held is not empty")
	}
	if ll, ok := LinkLocal(pp("2001:db8::1/64", "fe80::1/64")); !ok || ll != netip.MustParseAddr("fe80::1") {
		t.Errorf("LinkLocal = %v %v", ll, ok)
	}
}
