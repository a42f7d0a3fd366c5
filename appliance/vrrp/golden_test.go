package vrrp

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// goldenPcap holds real adverts from keepalived 2.2.7 (Debian 12), captured by
// TestKeepalivedCapture (run it as root with -update-golden to refresh):
// three master instances on one veth, then their priority-0 adverts when
// keepalived is stopped.
var goldenPcap = filepath.Join("testdata", "keepalived.pcap")

// The keepalived side of the capture: sender addresses and instances.
var (
	kaSrc4 = mustAddr("192.0.2.1")
	kaSrc6 = mustAddr("fe80::5eff:fe10:1") // EUI-64 of 02:00:5e:10:00:01
)

// keepalivedInstances are the instances keepalived runs, as our receiving
// Config (PrimaryAddr is the receiver's, so nothing is our own advert).
var keepalivedInstances = []Config{
	{Version: 2, VRID: 51, Priority: 100, AdvertInterval: time.Second, AuthType: AuthPass, AuthPass: "secret12",
		PrimaryAddr: mustAddr("192.0.2.2"), VIPs: []netip.Addr{mustAddr("192.0.2.100"), mustAddr("192.0.2.101")}},
	{Version: 3, VRID: 52, Priority: 150, AdvertInterval: 500 * time.Millisecond,
		PrimaryAddr: mustAddr("192.0.2.2"), VIPs: []netip.Addr{mustAddr("192.0.2.102")}},
	{Version: 3, VRID: 53, Priority: 200, AdvertInterval: time.Second,
		PrimaryAddr: mustAddr("fe80::5eff:fe10:2"), VIPs: []netip.Addr{mustAddr("2001:db8::100"), mustAddr("2001:db8::101")}},
}

// keepalivedConf renders keepalivedInstances for keepalived on interface ifname.
func keepalivedConf(ifname string) string {
	var b bytes.Buffer
	b.WriteString("global_defs {\n  router_id lvsbox-golden\n  vrrp_garp_master_repeat 1\n  vrrp_garp_master_refresh 0\n}\n")
	for _, c := range keepalivedInstances {
		fmt.Fprintf(&b, "vrrp_instance VR%d {\n  state MASTER\n  interface %s\n  virtual_router_id %d\n  priority %d\n"+
			"  advert_int %g\n  version %d\n", c.VRID, ifname, c.VRID, c.Priority, c.AdvertInterval.Seconds(), c.Version)
		if c.AuthType == AuthPass {
			fmt.Fprintf(&b, "  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n", c.AuthPass)
		}
		b.WriteString("  virtual_ipaddress {\n")
		for _, a := range c.VIPs {
			fmt.Fprintf(&b, "    %s/%d\n", a, a.BitLen())
		}
		b.WriteString("  }\n}\n")
	}
	return b.String()
}

// verifyKeepalivedCapture checks every advert in a keepalived capture: it
// passes our receive checks, and our own encoder produces the very same bytes
// (checksum included) for the same instance and priority. It wants at least
// minAdverts adverts at the configured priority and one priority-0 advert per
// instance.
func verifyKeepalivedCapture(t *testing.T, pcap []byte, minAdverts int) {
	t.Helper()
	msgs, err := readPcap(pcap)
	if err != nil {
		t.Fatal(err)
	}
	normal, stop := map[uint8]int{}, map[uint8]int{}
	for i, m := range msgs {
		v := Decode(m)
		if !v.Accepted() {
			t.Errorf("advert %d from %v: dropped by Decode: %s", i, m.Src, v.Drop)
			continue
		}
		idx := slices.IndexFunc(keepalivedInstances, func(c Config) bool { return c.VRID == v.Packet.VRID })
		if idx < 0 {
			t.Errorf("advert %d: unexpected VRID %d", i, v.Packet.VRID)
			continue
		}
		cfg := keepalivedInstances[idx]
		if v = cfg.CheckDecoded(v); !v.Accepted() || v.Warn != "" {
			t.Errorf("advert %d (vrid %d): drop %q warn %q", i, cfg.VRID, v.Drop, v.Warn)
			continue
		}
		wantSrc := kaSrc4
		if cfg.Family() == IPv6 {
			wantSrc = kaSrc6
		}
		if m.Src != wantSrc || m.Dst != cfg.Group() || m.TTL != TTL {
			t.Errorf("advert %d (vrid %d): %v > %v ttl %d, want %v > %v ttl 255", i, cfg.VRID, m.Src, m.Dst, m.TTL, wantSrc, cfg.Group())
		}
		switch v.Packet.Priority {
		case cfg.Priority:
			normal[cfg.VRID]++
		case PriorityStop:
			stop[cfg.VRID]++
		default:
			t.Errorf("advert %d (vrid %d): priority %d", i, cfg.VRID, v.Packet.Priority)
		}
		if got := v.Packet.AdvertInterval(); got != cfg.AdvertInterval {
			t.Errorf("advert %d (vrid %d): interval %v, want %v", i, cfg.VRID, got, cfg.AdvertInterval)
		}
		ours, err := cfg.Advertisement(v.Packet.Priority).Marshal(m.Src, m.Dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, m.Payload) {
			t.Errorf("advert %d (vrid %d): our encoding differs\n ours %x\n keepalived %x", i, cfg.VRID, ours, m.Payload)
		}
	}
	for _, c := range keepalivedInstances {
		if normal[c.VRID] < minAdverts || stop[c.VRID] != 1 {
			t.Errorf("vrid %d: %d adverts at priority %d and %d at priority 0; want >= %d and 1",
				c.VRID, normal[c.VRID], c.Priority, stop[c.VRID], minAdverts)
		}
	}
}

func TestKeepalivedGolden(t *testing.T) {
	b, err := os.ReadFile(goldenPcap)
	if err != nil {
		t.Fatalf("golden capture: %v (regenerate as root: go test -run TestKeepalivedCapture -update-golden)", err)
	}
	verifyKeepalivedCapture(t, b, 2)
}

// TestGoldenChecksumsBreak flips each byte of each golden advert and wants the
// checksum (or an earlier structural check) to catch it.
func TestGoldenChecksumsBreak(t *testing.T) {
	b, err := os.ReadFile(goldenPcap)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := readPcap(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs[:min(len(msgs), 6)] {
		for i := range m.Payload {
			bad := m
			bad.Payload = bytes.Clone(m.Payload)
			bad.Payload[i] ^= 0x01
			if v := Decode(bad); v.Accepted() {
				t.Errorf("%v vrid %d: flipping byte %d still accepted", m.Src, m.Payload[1], i)
			}
		}
	}
}
