package vrnet_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet/vrnettest"
)

var (
	src = netip.MustParseAddr("192.0.2.1")
	dst = vrrp.GroupIPv4
	vip = netip.MustParseAddr("192.0.2.100")
)

func advert(t *testing.T, vrid uint8) []byte {
	t.Helper()
	p := &vrrp.Packet{Version: 3, Type: 1, VRID: vrid, Priority: 100, Interval: 100, Addresses: []netip.Addr{vip}}
	b, err := p.Marshal(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDemux(t *testing.T) {
	d := vrnet.NewDemux(nil, 2)
	var got []vrnet.Inbound
	full := false
	unreg, err := d.Register(7, func(in vrnet.Inbound) bool {
		if full {
			return false
		}
		got = append(got, in)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Register(7, func(vrnet.Inbound) bool { return true }); err == nil {
		t.Fatal("second Register of vrid 7 succeeded")
	}
	msg := func(vrid uint8, ttl uint8, ifindex int) vrnet.Message {
		return vrnet.Message{Received: vrrp.Received{TTL: ttl, Src: src, Dst: dst, Payload: advert(t, vrid)}, IfIndex: ifindex, At: time.Now()}
	}
	d.Handle(msg(7, 255, 2)) // delivered
	d.Handle(msg(7, 254, 2)) // ttl
	d.Handle(msg(8, 255, 2)) // vrid
	d.Handle(msg(7, 255, 3)) // interface
	bad := msg(7, 255, 2)
	bad.Payload[7] ^= 1
	d.Handle(bad) // checksum
	full = true
	d.Handle(msg(7, 255, 2)) // overrun
	full = false
	unreg()
	d.Handle(msg(7, 255, 2)) // vrid after unregister

	if len(got) != 1 || got[0].Verdict.Packet.VRID != 7 || got[0].Dst != dst {
		t.Fatalf("delivered %+v", got)
	}
	s := d.Stats()
	want := map[vrrp.Reason]uint64{vrrp.ReasonTTL: 1, vrrp.ReasonVRID: 2, vrnet.ReasonInterface: 1, vrrp.ReasonChecksum: 1, vrnet.ReasonOverrun: 1}
	if s.Received != 7 || s.Delivered != 1 || len(s.Dropped) != len(want) {
		t.Fatalf("stats %+v", s)
	}
	for k, v := range want {
		if s.Dropped[k] != v {
			t.Errorf("dropped[%s] = %d, want %d", k, s.Dropped[k], v)
		}
	}
}

func TestDemuxRunEndsOnClose(t *testing.T) {
	var seg vrnettest.Segment
	a := seg.Attach(src, 1)
	b := seg.Attach(netip.MustParseAddr("192.0.2.2"), 1)
	d := vrnet.NewDemux(b, 1)
	got := make(chan vrnet.Inbound, 1)
	if _, err := d.Register(9, func(in vrnet.Inbound) bool { got <- in; return true }); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- d.Run() }()
	if err := a.Send(advert(t, 9), src, dst); err != nil {
		t.Fatal(err)
	}
	select {
	case in := <-got:
		if in.Verdict.Src != src {
			t.Fatalf("src %v", in.Verdict.Src)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery")
	}
	b.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
