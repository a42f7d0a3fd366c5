package vrrp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	mustAddr = netip.MustParseAddr
	src4     = mustAddr("192.0.2.1")
	src6     = mustAddr("fe80::5eff:fe10:1")
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Hand-computed vectors. Checksums worked out on paper (16-bit one's
// complement sums), cross-checked with an independent script:
//
//	v2: 2101 + 6401 + 0001 + c000 + 0264 (+ zero auth data) = 4768 -> ~ = b897
//	v3/IPv4: pseudo c000 0201 e000 0012 0070 000c + 3101 6401 0064 c000 0264
//	         = 2fa59 -> fold fa5b -> ~ = 05a4
//	v3/IPv6: fe80::5eff:fe10:1 > ff02::12, length 40, next header 112 -> 7e19
var handVectors = []struct {
	name     string
	pkt      Packet
	src, dst netip.Addr
	wire     string
}{
	{
		name: "v2 ipv4 no auth",
		pkt: Packet{Version: 2, Type: 1, VRID: 1, Priority: 100, Interval: 1,
			Addresses: []netip.Addr{mustAddr("192.0.2.100")}},
		src: src4, dst: GroupIPv4,
		wire: "21 01 64 01 00 01 b8 97 c0 00 02 64 00 00 00 00 00 00 00 00",
	},
	{
		name: "v3 ipv4",
		pkt: Packet{Version: 3, Type: 1, VRID: 1, Priority: 100, Interval: 100,
			Addresses: []netip.Addr{mustAddr("192.0.2.100")}},
		src: src4, dst: GroupIPv4,
		wire: "31 01 64 01 00 64 05 a4 c0 00 02 64",
	},
	{
		name: "v3 ipv6 two addresses",
		pkt: Packet{Version: 3, Type: 1, VRID: 5, Priority: 200, Interval: 100,
			Addresses: []netip.Addr{mustAddr("2001:db8::100"), mustAddr("fe80::1")}},
		src: src6, dst: GroupIPv6,
		wire: "31 05 c8 02 00 64 7e 19 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 01 00" +
			"fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01",
	},
}

func TestHandVectors(t *testing.T) {
	for _, tc := range handVectors {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.wire)
			got, err := tc.pkt.Marshal(tc.src, tc.dst)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal:\n got %x\nwant %x", got, want)
			}
			if !ChecksumOK(tc.pkt.Version, tc.src, tc.dst, want) {
				t.Errorf("ChecksumOK false on the vector")
			}
			p, err := Unmarshal(want, FamilyOf(tc.src))
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			wantPkt := tc.pkt
			wantPkt.Checksum = uint16(want[6])<<8 | uint16(want[7])
			if !reflect.DeepEqual(*p, wantPkt) {
				t.Errorf("Unmarshal:\n got %+v\nwant %+v", *p, wantPkt)
			}
		})
	}
}

func TestV3ChecksumDependsOnPseudoHeader(t *testing.T) {
	p := Packet{Version: 3, Type: 1, VRID: 1, Priority: 100, Interval: 100,
		Addresses: []netip.Addr{mustAddr("192.0.2.100")}}
	a, _ := p.Marshal(src4, GroupIPv4)
	b, _ := p.Marshal(mustAddr("192.0.2.2"), GroupIPv4)
	if bytes.Equal(a, b) {
		t.Fatal("v3 checksum ignores the source address")
	}
	if ChecksumOK(3, mustAddr("192.0.2.2"), GroupIPv4, a) {
		t.Fatal("v3 checksum verified with the wrong source")
	}
	p.Version, p.Interval = 2, 1
	c, _ := p.Marshal(src4, GroupIPv4)
	d, _ := p.Marshal(mustAddr("192.0.2.2"), mustAddr("192.0.2.9"))
	if !bytes.Equal(c, d) {
		t.Fatal("v2 checksum depends on the IP header")
	}
}

func TestRoundTrip(t *testing.T) {
	many := make([]netip.Addr, 255)
	for i := range many {
		many[i] = netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
	}
	pass := [8]byte{'s', 'e', 'c', 'r', 'e', 't', '1', '2'}
	cases := []struct {
		name     string
		p        Packet
		src, dst netip.Addr
	}{
		{"v2 pass", Packet{Version: 2, Type: 1, VRID: 255, Priority: 255, Interval: 255, AuthType: AuthPass, AuthData: pass,
			Addresses: []netip.Addr{mustAddr("192.0.2.100")}}, src4, GroupIPv4},
		{"v2 255 addrs", Packet{Version: 2, Type: 1, VRID: 9, Priority: 0, Interval: 3, Addresses: many}, src4, GroupIPv4},
		{"v3 max interval", Packet{Version: 3, Type: 1, VRID: 7, Priority: 1, Interval: 4095,
			Addresses: []netip.Addr{mustAddr("203.0.113.7")}}, src4, GroupIPv4},
		{"v3 min interval unicast dst", Packet{Version: 3, Type: 1, VRID: 7, Priority: 1, Interval: 1,
			Addresses: []netip.Addr{mustAddr("203.0.113.7")}}, src4, mustAddr("192.0.2.2")},
		{"v3 ipv6", Packet{Version: 3, Type: 1, VRID: 1, Priority: 254, Interval: 3,
			Addresses: []netip.Addr{mustAddr("2001:db8::1"), mustAddr("2001:db8::2"), mustAddr("2001:db8::3")}}, src6, GroupIPv6},
		{"v3 unknown type", Packet{Version: 3, Type: 15, VRID: 1, Priority: 1, Interval: 3,
			Addresses: []netip.Addr{mustAddr("2001:db8::1")}}, src6, GroupIPv6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.p.Marshal(tc.src, tc.dst)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !ChecksumOK(tc.p.Version, tc.src, tc.dst, b) {
				t.Fatal("checksum of own message does not verify")
			}
			got, err := Unmarshal(b, FamilyOf(tc.src))
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			got.Checksum = 0
			if !reflect.DeepEqual(*got, tc.p) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", *got, tc.p)
			}
		})
	}
}

func TestV3ReservedBitsIgnored(t *testing.T) {
	b := unhex(t, handVectors[1].wire)
	b[4] |= 0xf0
	p, err := Unmarshal(b, IPv4)
	if err != nil {
		t.Fatal(err)
	}
	if p.Interval != 100 {
		t.Fatalf("interval %d, want 100 with reserved bits masked", p.Interval)
	}
}

func TestMarshalErrors(t *testing.T) {
	v4 := []netip.Addr{mustAddr("192.0.2.100")}
	cases := []struct {
		name     string
		p        Packet
		src, dst netip.Addr
		want     string
	}{
		{"version", Packet{Version: 4, Addresses: v4}, src4, GroupIPv4, "version 4"},
		{"type", Packet{Version: 3, Type: 16, Addresses: v4}, src4, GroupIPv4, "type 16"},
		{"no addrs", Packet{Version: 3}, src4, GroupIPv4, "0 addresses"},
		{"too many", Packet{Version: 2, Addresses: make([]netip.Addr, 256)}, src4, GroupIPv4, "256 addresses"},
		{"mixed", Packet{Version: 3, Addresses: []netip.Addr{v4[0], mustAddr("2001:db8::1")}}, src4, GroupIPv4, "is not ipv4"},
		{"v2 ipv6", Packet{Version: 2, Addresses: []netip.Addr{mustAddr("2001:db8::1")}}, src6, GroupIPv6, "IPv4 only"},
		{"v2 interval", Packet{Version: 2, Interval: 256, Addresses: v4}, src4, GroupIPv4, "fit 8 bits"},
		{"v3 interval", Packet{Version: 3, Interval: 4096, Addresses: v4}, src4, GroupIPv4, "fit 12 bits"},
		{"v3 auth", Packet{Version: 3, AuthType: AuthPass, Addresses: v4}, src4, GroupIPv4, "no authentication"},
		{"v3 no src", Packet{Version: 3, Addresses: v4}, netip.Addr{}, GroupIPv4, "pseudo-header"},
		{"v3 wrong family", Packet{Version: 3, Addresses: v4}, src6, GroupIPv6, "pseudo-header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.p.Marshal(tc.src, tc.dst)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	v2 := unhex(t, handVectors[0].wire)
	v3 := unhex(t, handVectors[1].wire)
	v36 := unhex(t, handVectors[2].wire)
	with := func(b []byte, i int, v byte) []byte {
		b = bytes.Clone(b)
		b[i] = v
		return b
	}
	cases := []struct {
		name string
		b    []byte
		fam  Family
		want Reason
	}{
		{"empty", nil, IPv4, ReasonTooShort},
		{"7 bytes", v3[:7], IPv4, ReasonTooShort},
		{"bad family", v3, 0, ReasonFamily},
		{"version 1", with(v3, 0, 0x11), IPv4, ReasonVersion},
		{"version 4", with(v3, 0, 0x41), IPv4, ReasonVersion},
		{"v2 over ipv6", with(v36, 0, 0x21), IPv6, ReasonVersion},
		{"count 0", with(v3, 3, 0), IPv4, ReasonAddrCount},
		{"count too big", with(v3, 3, 2), IPv4, ReasonLength},
		{"trailing byte", append(bytes.Clone(v3), 0), IPv4, ReasonLength},
		{"v2 without auth data", v2[:12], IPv4, ReasonLength},
		{"ipv4 message read as ipv6", v3, IPv6, ReasonLength},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal(tc.b, tc.fam)
			var de *DecodeError
			if !errors.As(err, &de) || de.Reason != tc.want {
				t.Fatalf("error %v, want reason %q", err, tc.want)
			}
		})
	}
}

func TestIntervalWire(t *testing.T) {
	cases := []struct {
		version uint8
		d       time.Duration
		want    uint16
		ok      bool
	}{
		{2, time.Second, 1, true},
		{2, 255 * time.Second, 255, true},
		{2, 256 * time.Second, 0, false},
		{2, 1500 * time.Millisecond, 0, false},
		{2, 0, 0, false},
		{3, 10 * time.Millisecond, 1, true},
		{3, time.Second, 100, true},
		{3, 40950 * time.Millisecond, 4095, true},
		{3, 40960 * time.Millisecond, 0, false},
		{3, 15 * time.Millisecond, 0, false},
		{3, 0, 0, false},
	}
	for _, tc := range cases {
		got, err := IntervalToWire(tc.version, tc.d)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("IntervalToWire(%d, %v) = %d, %v; want %d ok=%t", tc.version, tc.d, got, err, tc.want, tc.ok)
		}
		if tc.ok {
			if back := IntervalFromWire(tc.version, got); back != tc.d {
				t.Errorf("IntervalFromWire(%d, %d) = %v, want %v", tc.version, got, back, tc.d)
			}
		}
	}
}
