package vrrp

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// Local instance configs for the receive tests; the peer sends from peer4/peer6.
var (
	peer4  = mustAddr("192.0.2.1")
	peer6  = mustAddr("fe80::1")
	local4 = mustAddr("192.0.2.2")
	local6 = mustAddr("fe80::2")
	cfgV2  = Config{Version: 2, VRID: 10, Priority: 100, AdvertInterval: time.Second, AuthType: AuthPass, AuthPass: "pw",
		PrimaryAddr: local4, VIPs: []netip.Addr{mustAddr("192.0.2.100"), mustAddr("192.0.2.101")}}
	cfgV3 = Config{Version: 3, VRID: 20, Priority: 100, AdvertInterval: time.Second,
		PrimaryAddr: local4, VIPs: []netip.Addr{mustAddr("192.0.2.200")}}
	cfgV36 = Config{Version: 3, VRID: 30, Priority: 100, AdvertInterval: time.Second,
		PrimaryAddr: local6, VIPs: []netip.Addr{mustAddr("2001:db8::100"), mustAddr("2001:db8::101")}}
)

// received builds what a peer with the same config would send, after mutate
// changes the packet (before marshalling) and post changes the result.
func received(t *testing.T, c Config, mutate func(*Packet), post func(*Received)) Received {
	t.Helper()
	p := c.Advertisement(c.Priority)
	if mutate != nil {
		mutate(p)
	}
	src := peer4
	if c.Family() == IPv6 {
		src = peer6
	}
	b, err := p.Marshal(src, c.Group())
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	r := Received{TTL: 255, Src: src, Dst: c.Group(), Payload: b}
	if post != nil {
		post(&r)
	}
	return r
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		cfg    Config
		mutate func(*Packet)
		post   func(*Received)
		drop   Reason
		warn   Reason
	}{
		{name: "v2 ok", cfg: cfgV2},
		{name: "v3 ok", cfg: cfgV3},
		{name: "v3 ipv6 ok", cfg: cfgV36},
		{name: "v3 other interval is learned, not dropped", cfg: cfgV3, mutate: func(p *Packet) { p.Interval = 25 }},
		{name: "addresses in another order", cfg: cfgV2, mutate: func(p *Packet) { slices.Reverse(p.Addresses) }},
		{name: "4in6 source", cfg: cfgV3, post: func(r *Received) { r.Src = netip.AddrFrom16(r.Src.As16()) }},
		{name: "no source", cfg: cfgV3, post: func(r *Received) { r.Src = netip.Addr{} }, drop: ReasonFamily},
		{name: "mixed families", cfg: cfgV3, post: func(r *Received) { r.Dst = GroupIPv6 }, drop: ReasonFamily},
		{name: "ipv6 advert on ipv4 instance", cfg: cfgV3,
			post: func(r *Received) { *r = received(t, cfgV36, func(p *Packet) { p.VRID = 20 }, nil) }, drop: ReasonFamily},
		{name: "ttl 254", cfg: cfgV2, post: func(r *Received) { r.TTL = 254 }, drop: ReasonTTL},
		{name: "ttl 1", cfg: cfgV36, post: func(r *Received) { r.TTL = 1 }, drop: ReasonTTL},
		{name: "too short", cfg: cfgV3, post: func(r *Received) { r.Payload = r.Payload[:5] }, drop: ReasonTooShort},
		{name: "version 1", cfg: cfgV3, post: func(r *Received) { r.Payload[0] = 0x11 }, drop: ReasonVersion},
		{name: "v3 advert to v2 instance", cfg: cfgV2,
			mutate: func(p *Packet) { p.Version, p.AuthType, p.AuthData, p.Interval = 3, 0, [8]byte{}, 100 }, drop: ReasonVersion},
		{name: "v2 advert over ipv6", cfg: cfgV36, post: func(r *Received) { r.Payload[0] = 0x21 }, drop: ReasonVersion},
		{name: "count 0", cfg: cfgV3, post: func(r *Received) { r.Payload[3] = 0 }, drop: ReasonAddrCount},
		{name: "count larger than length", cfg: cfgV36, post: func(r *Received) { r.Payload[3] = 3 }, drop: ReasonLength},
		{name: "count smaller than length", cfg: cfgV2, post: func(r *Received) { r.Payload[3] = 1 }, drop: ReasonLength},
		{name: "trailing garbage", cfg: cfgV3, post: func(r *Received) { r.Payload = append(r.Payload, 0, 0, 0, 0) }, drop: ReasonLength},
		{name: "type 2", cfg: cfgV3, mutate: func(p *Packet) { p.Type = 2 }, drop: ReasonType},
		{name: "bad checksum", cfg: cfgV2, post: func(r *Received) { r.Payload[7]++ }, drop: ReasonChecksum},
		{name: "v3 checksum with another source", cfg: cfgV3, post: func(r *Received) { r.Src = mustAddr("192.0.2.9") }, drop: ReasonChecksum},
		{name: "v3 ipv6 checksum with another destination", cfg: cfgV36, post: func(r *Received) { r.Dst = mustAddr("ff02::1") }, drop: ReasonChecksum},
		{name: "v3 without pseudo-header", cfg: cfgV3, post: func(r *Received) {
			r.Payload[6], r.Payload[7] = 0, 0
			c := checksum(Version2, netip.Addr{}, netip.Addr{}, r.Payload) // message-only sum
			r.Payload[6], r.Payload[7] = byte(c>>8), byte(c)
		}, drop: ReasonChecksum},
		{name: "other vrid", cfg: cfgV2, mutate: func(p *Packet) { p.VRID = 11 }, drop: ReasonVRID},
		{name: "own advert", cfg: cfgV3, post: func(r *Received) { *r = resign(t, *r, local4) }, drop: ReasonOwnAdvert},
		{name: "auth none vs PASS", cfg: cfgV2, mutate: func(p *Packet) { p.AuthType, p.AuthData = AuthNone, [8]byte{} }, drop: ReasonAuthType},
		{name: "auth AH", cfg: cfgV2, mutate: func(p *Packet) { p.AuthType = AuthAH }, drop: ReasonAuthType},
		{name: "wrong password", cfg: cfgV2, mutate: func(p *Packet) { p.AuthData[0] = 'P' }, drop: ReasonAuthData},
		{name: "password with extra byte", cfg: cfgV2, mutate: func(p *Packet) { p.AuthData[2] = 'x' }, drop: ReasonAuthData},
		{name: "v2 interval mismatch", cfg: cfgV2, mutate: func(p *Packet) { p.Interval = 2 }, drop: ReasonInterval},
		{name: "v3 interval 0", cfg: cfgV36, mutate: func(p *Packet) { p.Interval = 0 }, drop: ReasonInterval},
		{name: "address missing", cfg: cfgV2, mutate: func(p *Packet) { p.Addresses = p.Addresses[:1] }, drop: ReasonAddrList},
		{name: "address differs", cfg: cfgV36, mutate: func(p *Packet) { p.Addresses[1] = mustAddr("2001:db8::999") }, drop: ReasonAddrList},
		{name: "address differs, sender is owner", cfg: cfgV3,
			mutate: func(p *Packet) { p.Priority, p.Addresses[0] = 255, mustAddr("192.0.2.201") }, warn: WarnAddrListOwner},
	}
	seen := map[Reason]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := received(t, tc.cfg, tc.mutate, tc.post)
			v := tc.cfg.Check(r)
			if v.Drop != tc.drop || v.Warn != tc.warn {
				t.Fatalf("drop %q warn %q, want drop %q warn %q", v.Drop, v.Warn, tc.drop, tc.warn)
			}
			if v.Accepted() {
				a := v.Advert()
				if a.Src != r.Src.Unmap() || a.Priority != v.Packet.Priority || a.Interval != v.Packet.AdvertInterval() {
					t.Fatalf("Advert() = %+v from packet %+v", a, v.Packet)
				}
			}
		})
		seen[tc.drop], seen[tc.warn] = true, true
	}
	for _, r := range Reasons() {
		if !seen[r] {
			t.Errorf("reason %q has no test case", r)
		}
	}
}

// resign re-addresses r as sent from src (recomputing the v3 checksum).
func resign(t *testing.T, r Received, src netip.Addr) Received {
	t.Helper()
	p, err := Unmarshal(r.Payload, FamilyOf(src))
	if err != nil {
		t.Fatal(err)
	}
	if r.Payload, err = p.Marshal(src, r.Dst); err != nil {
		t.Fatal(err)
	}
	r.Src = src
	return r
}

func TestReasonsDistinct(t *testing.T) {
	rs := Reasons()
	seen := map[Reason]bool{}
	for _, r := range rs {
		if r == "" || seen[r] {
			t.Errorf("reason %q empty or listed twice", r)
		}
		seen[r] = true
	}
}
