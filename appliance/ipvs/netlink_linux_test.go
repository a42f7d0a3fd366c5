package ipvs

import (
	"encoding/binary"
	"net/netip"
	"testing"

	mobyipvs "github.com/moby/ipvs"
	"golang.org/x/sys/unix"
)

// These tests cover the pure conversions of the real Kernel; the netlink calls
// themselves need a kernel with IPVS and are exercised by the VM tests.

func TestNetmaskEncoding(t *testing.T) {
	if got := netmaskToKernel(4, 32); got != 0xffffffff {
		t.Errorf("/32 = %#x, want 0xffffffff (what ipvsadm sends)", got)
	}
	if got := netmaskToKernel(6, 128); got != 128 {
		t.Errorf("v6 /128 = %d", got)
	}
	for _, bits := range []uint8{0, 8, 24, 31, 32} {
		if got := netmaskFromKernel(4, netmaskToKernel(4, bits)); got != bits {
			t.Errorf("v4 /%d round trip = /%d", bits, got)
		}
	}
	// /24 must reach the kernel as the bytes 255.255.255.0 (a __be32).
	b := binary.NativeEndian.AppendUint32(nil, netmaskToKernel(4, 24)) // what moby writes
	if b[0] != 255 || b[2] != 255 || b[3] != 0 {
		t.Errorf("/24 bytes = %v", b)
	}
}

func TestServiceConversion(t *testing.T) {
	s := Service{Key: AddrKey(SCTP, netip.MustParseAddr("192.0.2.7"), 9), Scheduler: "mh", Flags: FlagPersistent, Timeout: 60, Netmask: 24}
	ms := toMobyService(s)
	if ms.AddressFamily != unix.AF_INET || ms.Protocol != 132 || ms.Address.String() != "192.0.2.7" || len(ms.Address) != 4 {
		t.Fatalf("moby service = %+v", ms)
	}
	ms.Flags |= flagHashed // as the kernel reports it
	if back := fromMobyService(ms); back != s {
		t.Fatalf("round trip = %+v, want %+v", back, s)
	}
	m := Service{Key: MarkKey(6, 42), Scheduler: "rr", Netmask: 128}
	mm := toMobyService(m)
	if mm.FWMark != 42 || mm.Address != nil || mm.AddressFamily != unix.AF_INET6 {
		t.Fatalf("fwmark service = %+v", mm)
	}
	if back := fromMobyService(mm); back != m {
		t.Fatalf("fwmark round trip = %+v", back)
	}
}

func TestForwardingMapping(t *testing.T) {
	for f, flag := range map[Forwarding]uint32{NAT: 0, Tunnel: 2, DirectRoute: 3} {
		if got := forwardingToKernel(f); got != flag {
			t.Errorf("%s -> %#x, want %#x", f, got, flag)
		}
		if got := forwardingFromKernel(flag); got != f {
			t.Errorf("%#x -> %s, want %s", flag, got, f)
		}
	}
	if forwardingFromKernel(mobyipvs.ConnFwdBypass) == NAT {
		t.Error("bypass flag read as nat")
	}
	d := Destination{Key: DestinationKey{netip.MustParseAddr("2001:db8::5"), 443}, Forwarding: Tunnel, Weight: 7, UpperThreshold: 10, LowerThreshold: 5}
	if back := fromMobyDestination(toMobyDestination(d)); back != d {
		t.Fatalf("destination round trip = %+v", back)
	}
}
