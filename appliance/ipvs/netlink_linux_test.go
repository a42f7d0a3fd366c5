package ipvs

import (
	"net/netip"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvsnl"
)

// These tests cover the pure conversions of the real Kernel; the netlink client is
// tested in ipvsnl, the real kernel by the VM tests (tools/vmtest/ipvs_test.go).

func TestNetmaskConversion(t *testing.T) {
	s := Service{Key: AddrKey(TCP, netip.MustParseAddr("192.0.2.7"), 80), Scheduler: "rr", Netmask: 24}
	if got := toNLService(s).Netmask; got != 0xffffff00 {
		t.Errorf("v4 /24 = %#x, want 0xffffff00", got)
	}
	s.Netmask = 32
	if got := toNLService(s).Netmask; got != 0xffffffff {
		t.Errorf("v4 /32 = %#x, want 0xffffffff (what ipvsadm sends)", got)
	}
	s6 := Service{Key: AddrKey(TCP, netip.MustParseAddr("2001:db8::1"), 80), Scheduler: "rr", Netmask: 64}
	if got := toNLService(s6).Netmask; got != 64 {
		t.Errorf("v6 /64 = %d", got)
	}
	ns := toNLService(s)
	ns.Netmask = 0xff00ff00 // set by hand with ipvsadm: not a prefix
	if got := fromNLService(ns).Netmask; got != 0 {
		t.Errorf("non-contiguous mask read as /%d", got)
	}
}

func TestServiceConversion(t *testing.T) {
	s := Service{Key: AddrKey(SCTP, netip.MustParseAddr("192.0.2.7"), 9), Scheduler: "mh", PE: "sip",
		Flags: FlagPersistent | FlagSched1, Timeout: 60, Netmask: 24}
	ns := toNLService(s)
	if ns.Family != ipvsnl.AFInet || ns.Protocol != 132 || ns.Addr != s.Key.Addr || ns.Port != 9 || ns.PE != "sip" {
		t.Fatalf("kernel service = %+v", ns)
	}
	ns.Flags |= ipvsnl.SvcFlagHashed // as the kernel reports it
	if back := fromNLService(ns); back != s {
		t.Fatalf("round trip = %+v, want %+v", back, s)
	}
	m := Service{Key: MarkKey(6, 42), Scheduler: "rr", Netmask: 128}
	mm := toNLService(m)
	if mm.FWMark != 42 || mm.Addr.IsValid() || mm.Family != ipvsnl.AFInet6 {
		t.Fatalf("fwmark service = %+v", mm)
	}
	if back := fromNLService(mm); back != m {
		t.Fatalf("fwmark round trip = %+v", back)
	}
}

func TestDestinationConversion(t *testing.T) {
	for f, flag := range map[Forwarding]uint32{NAT: 0, Tunnel: 2, DirectRoute: 3, Local: 1} {
		if got := forwardingToKernel(f); got != flag {
			t.Errorf("%s -> %#x, want %#x", f, got, flag)
		}
		if got := forwardingFromKernel(flag); got != f {
			t.Errorf("%#x -> %s, want %s", flag, got, f)
		}
	}
	if forwardingFromKernel(ipvsnl.FwdBypass) == NAT {
		t.Error("bypass read as nat")
	}
	// A mixed-family GUE tunnel destination keeps its own family.
	d := Destination{Key: DestinationKey{netip.MustParseAddr("2001:db8::5"), 443}, Forwarding: Tunnel, Weight: 7,
		UpperThreshold: 10, LowerThreshold: 5, TunnelType: TunnelGUE, TunnelPort: 6080, TunnelFlags: TunnelFlagCsum}
	nd := toNLDest(d)
	if nd.Family != ipvsnl.AFInet6 || nd.TunType != ipvsnl.TunGUE || nd.TunPort != 6080 || nd.FwdMethod != ipvsnl.FwdTunnel {
		t.Fatalf("kernel destination = %+v", nd)
	}
	nd.ActiveConns, nd.InactConns, nd.PersistConns = 3, 4, 5
	nd.Stats = ipvsnl.Stats{Conns: 10, InPkts: 20, OutPkts: 30, InBytes: 40, OutBytes: 50, CPS: 1, InPPS: 2, OutPPS: 3, InBPS: 4, OutBPS: 5}
	back := fromNLDest(nd)
	want := d
	want.ActiveConns, want.InactiveConns, want.PersistConns = 3, 4, 5
	want.Stats = Stats{Connections: 10, InPackets: 20, OutPackets: 30, InBytes: 40, OutBytes: 50,
		ConnectionRate: 1, InPacketRate: 2, OutPacketRate: 3, InByteRate: 4, OutByteRate: 5}
	if back != want {
		t.Fatalf("round trip = %+v\nwant %+v", back, want)
	}
}

func TestRequestConversion(t *testing.T) {
	svc := Service{Key: AddrKey(TCP, netip.MustParseAddr("192.0.2.1"), 80), Scheduler: "wlc", Netmask: 32}
	dst := Destination{Key: DestinationKey{netip.MustParseAddr("198.51.100.2"), 80}, Forwarding: DirectRoute, Weight: 2}
	want := map[OpKind]ipvsnl.Command{
		AddService: ipvsnl.CmdNewService, UpdateService: ipvsnl.CmdSetService, DeleteService: ipvsnl.CmdDelService,
		AddDestination: ipvsnl.CmdNewDest, UpdateDestination: ipvsnl.CmdSetDest, DeleteDestination: ipvsnl.CmdDelDest,
	}
	for kind, cmd := range want {
		r := toNLRequest(Op{Kind: kind, Service: svc, Dest: dst})
		if r.Cmd != cmd || r.Service.Scheduler != "wlc" || r.Service.Addr != svc.Key.Addr {
			t.Errorf("%s -> %+v", kind, r)
		}
		if kind >= AddDestination && (r.Dest.Addr != dst.Key.Addr || r.Dest.FwdMethod != ipvsnl.FwdDirect || r.Dest.Weight != 2) {
			t.Errorf("%s destination -> %+v", kind, r.Dest)
		}
	}
}
