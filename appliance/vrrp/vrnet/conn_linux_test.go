package vrnet_test

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrlab"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet"
)

// TestRawConn sends adverts between two namespaces over a bridge and checks
// what the receiving socket reports: TTL/hop limit 255, the destination
// (group or unicast), the interface, the source we chose, and Pending.
func TestRawConn(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the host netns tier")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("LVSBOX_REQUIRE_ALL") == "1" {
			t.Fatal("LVSBOX_REQUIRE_ALL=1 and not root")
		}
		t.Skip("needs root for network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip not installed")
	}
	l, err := vrlab.New(t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	a, err := l.AddNode("a", vrlab.LinkSpec{Addrs: []string{"192.0.2.1/24"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.AddNode("b", vrlab.LinkSpec{Addrs: []string{"192.0.2.2/24"}})
	if err != nil {
		t.Fatal(err)
	}
	open := func(n *vrlab.Node, fam vrrp.Family) (*vrnet.RawConn, int) {
		var c *vrnet.RawConn
		var idx int
		if err := n.Do(func() error {
			var err error
			if c, err = vrnet.Open("eth0", fam); err != nil {
				return err
			}
			ifi, err := net.InterfaceByName("eth0")
			idx = ifi.Index
			return err
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, idx
	}
	// The link-local addresses come from the fixed MACs (EUI-64).
	ll := func(n *vrlab.Node) netip.Addr {
		m := n.Link("eth0").MAC
		return netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 8: m[0] ^ 2, 9: m[1], 10: m[2], 11: 0xff, 12: 0xfe, 13: m[3], 14: m[4], 15: m[5]})
	}
	for _, tc := range []struct {
		name     string
		fam      vrrp.Family
		src, dst netip.Addr
		vip      netip.Addr
	}{
		{"ipv4 multicast", vrrp.IPv4, netip.MustParseAddr("192.0.2.1"), vrrp.GroupIPv4, netip.MustParseAddr("192.0.2.100")},
		{"ipv4 unicast", vrrp.IPv4, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.100")},
		{"ipv6 multicast", vrrp.IPv6, ll(a), vrrp.GroupIPv6, netip.MustParseAddr("2001:db8::100")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, _ := open(a, tc.fam)
			cb, idxB := open(b, tc.fam)
			p := &vrrp.Packet{Version: 3, Type: 1, VRID: 9, Priority: 150, Interval: 100, Addresses: []netip.Addr{tc.vip}}
			payload, err := p.Marshal(tc.src, tc.dst)
			if err != nil {
				t.Fatal(err)
			}
			if err := ca.Send(payload, tc.src, tc.dst); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !cb.Pending() {
				if time.Now().After(deadline) {
					t.Fatal("nothing pending on the receiver")
				}
				time.Sleep(5 * time.Millisecond)
			}
			m, err := cb.Receive(make([]byte, 1500))
			if err != nil {
				t.Fatal(err)
			}
			if m.TTL != 255 || m.Src != tc.src || m.Dst != tc.dst || m.IfIndex != idxB {
				t.Fatalf("received ttl %d src %v dst %v ifindex %d, want 255 %v %v %d", m.TTL, m.Src, m.Dst, m.IfIndex, tc.src, tc.dst, idxB)
			}
			if v := vrrp.Decode(m.Received); !v.Accepted() || v.Packet.VRID != 9 {
				t.Fatalf("decode: %+v", v)
			}
			if cb.Pending() {
				t.Error("still pending after the only message was read")
			}
		})
	}
}
