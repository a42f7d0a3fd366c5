package halfopen

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

var (
	box    = netip.MustParseAddr("192.0.2.10")
	server = netip.MustParseAddr("198.51.100.11")
)

func TestSYN(t *testing.T) {
	var buf [synLen]byte
	b := putSYN(buf[:], box, server, 40001, 80, 0xdeadbeef)
	if len(b) != synLen {
		t.Fatalf("length %d", len(b))
	}
	if got := binary.BigEndian.Uint16(b[0:]); got != 40001 {
		t.Errorf("source port %d", got)
	}
	if got := binary.BigEndian.Uint16(b[2:]); got != 80 {
		t.Errorf("destination port %d", got)
	}
	if got := binary.BigEndian.Uint32(b[4:]); got != 0xdeadbeef {
		t.Errorf("seq %#x", got)
	}
	if b[13] != flagSYN || b[12]>>4 != 6 {
		t.Errorf("flags %#x, data offset %d", b[13], b[12]>>4)
	}
	if b[20] != 2 || b[21] != 4 || binary.BigEndian.Uint16(b[22:]) != mss4 {
		t.Errorf("MSS option % x", b[20:24])
	}
	// A segment with a right checksum sums (with its pseudo-header) to zero.
	if c := tcpChecksum(box, server, b); c != 0 {
		t.Errorf("checksum does not verify: residue %#x", c)
	}
	// Against an independently known value: the same SYN with checksum zeroed.
	sum := binary.BigEndian.Uint16(b[16:])
	binary.BigEndian.PutUint16(b[16:], 0)
	if c := tcpChecksum(box, server, b); c != sum {
		t.Errorf("checksum %#x, recomputed %#x", sum, c)
	}

	v6 := putSYN(buf[:], netip.Addr{}, netip.MustParseAddr("2001:db8::11"), 40001, 443, 1)
	if binary.BigEndian.Uint16(v6[16:]) != 0 || binary.BigEndian.Uint16(v6[22:]) != mss6 {
		t.Errorf("IPv6 SYN: checksum must be left to the kernel, MSS %d", binary.BigEndian.Uint16(v6[22:]))
	}
}

// ipv4Packet wraps a TCP segment from src to dst in an IPv4 header with ihl
// 32-bit words.
func ipv4Packet(src, dst netip.Addr, ihl int, seg []byte) []byte {
	b := make([]byte, ihl*4+len(seg))
	b[0] = 4<<4 | byte(ihl)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	b[8], b[9] = 64, 6
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	copy(b[ihl*4:], seg)
	return b
}

// segment is a TCP header from sport to dport with flags and ack.
func segment(sport, dport uint16, flags uint8, ack uint32) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[8:], ack)
	b[12] = 5 << 4
	b[13] = flags
	return b
}

func TestParseAndVerdict(t *testing.T) {
	const seq = 1000
	for _, tc := range []struct {
		name              string
		flags             uint8
		ack               uint32
		answered, refused bool
	}{
		{"syn-ack", flagSYN | flagACK, seq + 1, true, false},
		{"rst-ack", flagRST | flagACK, seq + 1, true, true},
		{"syn-ack for another probe", flagSYN | flagACK, seq + 7, false, false},
		{"rst without ack", flagRST, 0, false, false},
		{"plain ack", flagACK, seq + 1, false, false},
		{"fin-ack", flagFIN | flagACK, seq + 1, false, false},
	} {
		for _, ihl := range []int{5, 7} {
			r, ok := parseIPv4(ipv4Packet(server, box, ihl, segment(80, 40001, tc.flags, tc.ack)))
			if !ok {
				t.Fatalf("%s (ihl %d): not parsed", tc.name, ihl)
			}
			if r.from != netip.AddrPortFrom(server, 80) || r.local != 40001 {
				t.Errorf("%s (ihl %d): from %s to port %d", tc.name, ihl, r.from, r.local)
			}
			answered, refused := r.verdict(seq)
			if answered != tc.answered || refused != tc.refused {
				t.Errorf("%s: answered %v refused %v, want %v %v", tc.name, answered, refused, tc.answered, tc.refused)
			}
		}
	}
	for name, b := range map[string][]byte{
		"short":     {0x45, 0},
		"not ipv4":  ipv4Packet(server, box, 5, segment(80, 1, flagSYN|flagACK, 1))[:0:0],
		"udp":       func() []byte { p := ipv4Packet(server, box, 5, segment(80, 1, 0, 0)); p[9] = 17; return p }(),
		"truncated": ipv4Packet(server, box, 5, segment(80, 1, 0, 0))[:30],
		"bad ihl":   func() []byte { p := ipv4Packet(server, box, 5, segment(80, 1, 0, 0)); p[0] = 0x43; return p }(),
	} {
		if _, ok := parseIPv4(b); ok {
			t.Errorf("%s: parsed", name)
		}
	}
}
