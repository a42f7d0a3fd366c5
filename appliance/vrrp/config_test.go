package vrrp

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"v3 ipv4", func(*Config) {}, ""},
		{"v2 PASS", func(c *Config) { c.Version, c.AuthType, c.AuthPass = 2, AuthPass, "12345678" }, ""},
		{"v3 ipv6", func(c *Config) {
			c.PrimaryAddr, c.VIPs = mustAddr("fe80::1"), []netip.Addr{mustAddr("2001:db8::1")}
		}, ""},
		{"v3 10ms", func(c *Config) { c.AdvertInterval = 10 * time.Millisecond }, ""},
		{"no primary yet", func(c *Config) { c.PrimaryAddr = netip.Addr{} }, ""},
		{"version 1", func(c *Config) { c.Version = 1 }, "version 1"},
		{"vrid 0", func(c *Config) { c.VRID = 0 }, "vrid 0"},
		{"priority 0", func(c *Config) { c.Priority = 0 }, "priority 0"},
		{"v2 fractional interval", func(c *Config) { c.Version, c.AdvertInterval = 2, 500*time.Millisecond }, "not representable in v2"},
		{"v3 interval too long", func(c *Config) { c.AdvertInterval = 41 * time.Second }, "not representable in v3"},
		{"v3 interval 5ms", func(c *Config) { c.AdvertInterval = 5 * time.Millisecond }, "not representable in v3"},
		{"negative preempt delay", func(c *Config) { c.PreemptDelay = -time.Second }, "negative preempt delay"},
		{"no vips", func(c *Config) { c.VIPs = nil }, "0 virtual addresses"},
		{"mixed vips", func(c *Config) { c.VIPs = append(c.VIPs, mustAddr("2001:db8::1")) }, "is not ipv4"},
		{"duplicate vip", func(c *Config) { c.VIPs = append(c.VIPs, c.VIPs[0]) }, "listed twice"},
		{"multicast vip", func(c *Config) { c.VIPs = []netip.Addr{mustAddr("224.0.0.1")} }, "not a unicast"},
		{"primary of other family", func(c *Config) { c.PrimaryAddr = mustAddr("fe80::1") }, "primary address"},
		{"v2 ipv6", func(c *Config) {
			c.Version, c.AdvertInterval, c.PrimaryAddr, c.VIPs = 2, time.Second, netip.Addr{}, []netip.Addr{mustAddr("2001:db8::1")}
		}, "IPv4 only"},
		{"v3 auth", func(c *Config) { c.AuthType, c.AuthPass = AuthPass, "x" }, "no authentication"},
		{"password without PASS", func(c *Config) { c.Version, c.AuthPass = 2, "x" }, "without auth type"},
		{"empty PASS", func(c *Config) { c.Version, c.AuthType = 2, AuthPass }, "0 bytes"},
		{"long PASS", func(c *Config) { c.Version, c.AuthType, c.AuthPass = 2, AuthPass, "123456789" }, "9 bytes"},
		{"AH", func(c *Config) { c.Version, c.AuthType = 2, AuthAH }, "not supported"},
		{"too many ipv6 vips for the MTU", func(c *Config) {
			c.PrimaryAddr, c.VIPs = netip.Addr{}, nil
			for i := range 92 {
				c.VIPs = append(c.VIPs, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}))
			}
		}, "1500-byte MTU"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mcfg(tc.mod)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if _, err := New(c); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if _, err := New(c); err == nil || !strings.Contains(err.Error(), "vrrp: instance vrid") {
				t.Fatalf("New error %v", err)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := Config{Version: 2, VRID: 0, Priority: 0}
	err := c.Validate()
	for _, want := range []string{"vrid 0", "priority 0", "0 virtual addresses", "not representable"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestTimerFormulas(t *testing.T) {
	cases := []struct {
		version, prio uint8
		iv            time.Duration
		skew          time.Duration
	}{
		{3, 100, time.Second, 609375 * time.Microsecond},
		{3, 254, time.Second, 7812500 * time.Nanosecond},
		{3, 1, 40950 * time.Millisecond, 255 * 40950 * time.Millisecond / 256},
		{3, 200, 10 * time.Millisecond, 2187500 * time.Nanosecond},
		{2, 100, time.Second, 609375 * time.Microsecond},
		{2, 100, 5 * time.Second, 609375 * time.Microsecond},
		{2, 255, 3 * time.Second, 3906250 * time.Nanosecond},
	}
	for _, tc := range cases {
		if got := SkewTime(tc.version, tc.prio, tc.iv); got != tc.skew {
			t.Errorf("SkewTime(v%d, %d, %v) = %v, want %v", tc.version, tc.prio, tc.iv, got, tc.skew)
		}
		if got, want := MasterDownInterval(tc.version, tc.prio, tc.iv), 3*tc.iv+tc.skew; got != want {
			t.Errorf("MasterDownInterval(v%d, %d, %v) = %v, want %v", tc.version, tc.prio, tc.iv, got, want)
		}
	}
}

func TestEffectivePriority(t *testing.T) {
	cases := []struct {
		base  uint8
		delta int
		want  uint8
	}{
		{100, 0, 100}, {100, 50, 150}, {100, -50, 50}, {100, -100, 1}, {100, -1000, 1},
		{100, 200, 254}, {254, 1, 254}, {255, 0, 255}, {255, 10, 255}, {255, -1, 254}, {255, -300, 1},
	}
	for _, tc := range cases {
		if got := EffectivePriority(tc.base, tc.delta); got != tc.want {
			t.Errorf("EffectivePriority(%d, %d) = %d, want %d", tc.base, tc.delta, got, tc.want)
		}
	}
}

func TestVirtualMACAndGroup(t *testing.T) {
	if got := VirtualMAC(IPv4, 51); got != [6]byte{0, 0, 0x5e, 0, 1, 51} {
		t.Errorf("IPv4 MAC %x", got)
	}
	if got := VirtualMAC(IPv6, 255); got != [6]byte{0, 0, 0x5e, 0, 2, 255} {
		t.Errorf("IPv6 MAC %x", got)
	}
	if GroupIPv4.String() != "224.0.0.18" || GroupIPv6.String() != "ff02::12" {
		t.Errorf("groups %v %v", GroupIPv4, GroupIPv6)
	}
	if cfgV36.Group() != GroupIPv6 || cfgV2.Group() != GroupIPv4 {
		t.Errorf("Config.Group wrong")
	}
}

func TestAdvertisement(t *testing.T) {
	p := cfgV2.Advertisement(0)
	want := Packet{Version: 2, Type: 1, VRID: 10, Priority: 0, Interval: 1, AuthType: AuthPass,
		AuthData: [8]byte{'p', 'w'}, Addresses: cfgV2.VIPs}
	if p.Version != want.Version || p.Type != want.Type || p.VRID != want.VRID || p.Priority != 0 ||
		p.Interval != 1 || p.AuthType != AuthPass || p.AuthData != want.AuthData || !sameAddrs(p.Addresses, cfgV2.VIPs) {
		t.Fatalf("got %+v, want %+v", p, want)
	}
	p.Addresses[0] = mustAddr("192.0.2.9")
	if cfgV2.VIPs[0] == p.Addresses[0] {
		t.Fatal("Advertisement shares the VIP slice")
	}
	q := cfgV3.Advertisement(100)
	if q.Interval != 100 || q.AuthType != AuthNone || q.AuthData != [8]byte{} {
		t.Fatalf("v3 advert %+v", q)
	}
}
