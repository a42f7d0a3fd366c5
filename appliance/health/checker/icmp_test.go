package checker

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/tools/testenv"
)

func icmpSpec() health.Spec {
	return health.Spec{Type: health.TypeICMP, Timeout: 500 * time.Millisecond}
}

func TestICMPLoopback(t *testing.T) {
	c, err := New(icmpSpec(), netip.MustParseAddrPort("127.0.0.1:80"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Check(context.Background())
	if strings.HasPrefix(r.Text, "icmp: neither") {
		testenv.Need(t, false, "ICMP not allowed here: %s", r.Text)
	}
	want(t, r, true, "ICMP echo reply from 127.0.0.1 in ")
	t.Logf("mode %s: %s", ICMPMode(c.(*icmpChecker).resolved.Load()), r.Text)
}

// TestICMPModes runs both socket kinds inside a fresh network namespace where ping
// sockets are enabled (net.ipv4.ping_group_range is per namespace), and checks an
// unanswered address times out.
func TestICMPModes(t *testing.T) {
	testenv.NeedRoot(t)
	name, ns := testenv.Netns(t, "lvhc-icmp")
	ip := func(args ...string) { t.Helper(); testenv.IP(t, args...) }
	ip("-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	ip("-n", name, "addr", "add", "198.51.100.1/24", "dev", "v0")
	ip("-n", name, "link", "set", "v0", "up")
	ip("-n", name, "link", "set", "v1", "up")
	ip("netns", "exec", name, "sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647")

	// Sockets belong to the namespace of the thread that creates them.
	err := testenv.InNetns(ns, func() error {
		for _, mode := range []ICMPMode{ICMPPing, ICMPRaw} {
			c, err := New(icmpSpec(), netip.MustParseAddrPort("127.0.0.1:0"), Options{ICMP: mode})
			if err != nil {
				t.Fatal(err)
			}
			r := c.Check(context.Background())
			if !r.OK || !strings.HasPrefix(r.Text, "ICMP echo reply from 127.0.0.1 in ") {
				t.Errorf("%s socket: %+v", mode, r)
			}
			// 198.51.100.2 is on v0's subnet: nobody answers.
			c, err = New(icmpSpec(), netip.MustParseAddrPort("198.51.100.2:0"), Options{ICMP: mode})
			if err != nil {
				t.Fatal(err)
			}
			r = c.Check(context.Background())
			if r.OK || r.Text != "timeout after 500ms: no ICMP echo reply" {
				t.Errorf("%s socket, silent host: %+v", mode, r)
			}
		}
		// A source address binding is honoured.
		spec := icmpSpec()
		spec.Source = netip.MustParseAddr("198.51.100.1")
		c, err := New(spec, netip.MustParseAddrPort("198.51.100.1:0"), Options{ICMP: ICMPPing})
		if err != nil {
			t.Fatal(err)
		}
		if r := c.Check(context.Background()); !r.OK {
			t.Errorf("ping from 198.51.100.1: %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
