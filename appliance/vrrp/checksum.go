package vrrp

import (
	"net/netip"
)

// checksum is the Internet checksum (RFC 1071) of msg; for v3 it includes the
// pseudo-header (RFC 5798 5.2.8): IPv4 src, dst, zero, protocol 112, 16-bit
// length; IPv6 src, dst, 32-bit length, three zero bytes, next header 112.
// Both pseudo-headers add up to the same 16-bit words apart from the address
// sizes. Computed over a message whose checksum field is zero it yields the
// value to store; over a received message it yields 0 when that is intact.
func checksum(version uint8, src, dst netip.Addr, msg []byte) uint16 {
	var sum uint32
	if version == Version3 {
		if src.Unmap().Is4() {
			s, d := src.Unmap().As4(), dst.Unmap().As4()
			sum = add(sum, s[:])
			sum = add(sum, d[:])
		} else {
			s, d := src.As16(), dst.As16()
			sum = add(sum, s[:])
			sum = add(sum, d[:])
		}
		sum += IPProtocol
		sum += uint32(len(msg)) >> 16
		sum += uint32(len(msg)) & 0xffff
	}
	sum = add(sum, msg)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// add adds b as big-endian 16-bit words (odd tail padded with zero).
func add(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	// Fold early so long inputs cannot overflow 32 bits.
	return sum&0xffff + sum>>16
}

// ChecksumOK reports whether the checksum of a received message msg, sent
// from src to dst, is correct (v3 covers the pseudo-header, v2 only msg).
func ChecksumOK(version uint8, src, dst netip.Addr, msg []byte) bool {
	return checksum(version, src, dst, msg) == 0
}
