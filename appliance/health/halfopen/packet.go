package halfopen

import (
	"encoding/binary"
	"net/netip"
)

// TCP header flags.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

// synLen is the length of the SYN sent: a 20-byte header plus an MSS option.
const synLen = 24

// synWindow is the window offered; mss4/mss6 the MSS option for each family
// (Ethernet MTU minus headers). Servers and middleboxes expect both in a SYN.
const (
	synWindow = 64240
	mss4      = 1460
	mss6      = 1440
)

// putSYN writes a SYN from sport to dport with sequence number seq into b (at least
// synLen bytes). For IPv4 the checksum over the pseudo-header of src and dst is
// filled in; for IPv6 it is left 0 for the kernel (IPV6_CHECKSUM).
func putSYN(b []byte, src, dst netip.Addr, sport, dport uint16, seq uint32) []byte {
	b = b[:synLen]
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint32(b[8:], 0) // ack
	b[12] = (synLen / 4) << 4            // data offset
	b[13] = flagSYN
	binary.BigEndian.PutUint16(b[14:], synWindow)
	binary.BigEndian.PutUint16(b[16:], 0) // checksum
	binary.BigEndian.PutUint16(b[18:], 0) // urgent pointer
	b[20], b[21] = 2, 4                   // MSS option
	mss := uint16(mss6)
	if dst.Is4() {
		mss = mss4
	}
	binary.BigEndian.PutUint16(b[22:], mss)
	if dst.Is4() {
		binary.BigEndian.PutUint16(b[16:], tcpChecksum(src, dst, b))
	}
	return b
}

// tcpChecksum is the Internet checksum of an IPv4 TCP segment with its
// pseudo-header. A segment whose checksum field is already right sums to 0.
func tcpChecksum(src, dst netip.Addr, seg []byte) uint16 {
	s4, d4 := src.As4(), dst.As4()
	var sum uint32
	sum += uint32(binary.BigEndian.Uint16(s4[0:])) + uint32(binary.BigEndian.Uint16(s4[2:]))
	sum += uint32(binary.BigEndian.Uint16(d4[0:])) + uint32(binary.BigEndian.Uint16(d4[2:]))
	sum += 6 + uint32(len(seg)) // protocol TCP, TCP length
	for i := 0; i+1 < len(seg); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(seg[i:]))
	}
	if len(seg)%2 == 1 {
		sum += uint32(seg[len(seg)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// reply is what matters of a segment received for a probe.
type reply struct {
	from  netip.AddrPort // the server (the segment's source)
	local uint16         // our port (the segment's destination port)
	flags uint8
	ack   uint32
}

// parseIPv4 reads a reply from an IPv4 packet as a raw IPv4 socket returns it
// (header included).
func parseIPv4(b []byte) (reply, bool) {
	if len(b) < 20 || b[0]>>4 != 4 || b[9] != 6 {
		return reply{}, false
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || len(b) < ihl {
		return reply{}, false
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	return parseTCP(b[ihl:], src)
}

// parseTCP reads a reply from a TCP segment sent by src.
func parseTCP(b []byte, src netip.Addr) (reply, bool) {
	if len(b) < 20 {
		return reply{}, false
	}
	return reply{
		from:  netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:])),
		local: binary.BigEndian.Uint16(b[2:]),
		flags: b[13],
		ack:   binary.BigEndian.Uint32(b[8:]),
	}, true
}

// verdict is what a reply says about the probe that sent seq: answered is false
// when the reply is not an answer to that SYN (it must acknowledge seq+1); refused
// is true for a RST, false for a SYN-ACK.
func (r reply) verdict(seq uint32) (answered bool, refused bool) {
	if r.flags&flagACK == 0 || r.ack != seq+1 {
		return false, false
	}
	switch {
	case r.flags&flagRST != 0:
		return true, true
	case r.flags&flagSYN != 0:
		return true, false
	}
	return false, false
}
