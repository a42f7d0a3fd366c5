package vrrp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// Protocol constants.
const (
	// IPProtocol is the IP protocol number (IPv4 protocol, IPv6 next header) of VRRP.
	IPProtocol = 112
	// TTL is the only IPv4 TTL / IPv6 hop limit VRRP sends and accepts.
	TTL = 255
	// TypeAdvertisement is the only VRRP packet type (v2 and v3).
	TypeAdvertisement = 1
	// Version2 is VRRP version 2 (RFC 3768, IPv4 only).
	Version2 = 2
	// Version3 is VRRP version 3 (RFC 5798, IPv4 and IPv6).
	Version3 = 3
	// PriorityOwner is the priority of the router that owns the virtual addresses.
	PriorityOwner = 255
	// PriorityStop is the priority a master sends when it stops being master.
	PriorityStop = 0
	// headerLen is the fixed part of a VRRP message (v2 and v3).
	headerLen = 8
	// authDataLen is the v2 authentication data trailer.
	authDataLen = 8
	// maxV2Interval is the largest v2 advertisement interval (8 bits, seconds).
	maxV2Interval = 0xff
	// maxV3Interval is the largest v3 max advertisement interval (12 bits, centiseconds).
	maxV3Interval = 0x0fff
)

// Well-known multicast destinations (RFC 5798 5.1.1.2 and 5.1.2.2).
var (
	GroupIPv4 = netip.AddrFrom4([4]byte{224, 0, 0, 18})
	GroupIPv6 = netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 15: 0x12})
)

// Family is the IP address family a VRRP message travels in.
type Family uint8

// Address families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// String returns "ipv4" or "ipv6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// addrLen is the size of one address of the family on the wire.
func (f Family) addrLen() int {
	if f == IPv6 {
		return 16
	}
	return 4
}

// FamilyOf returns the family of a (4in6-unmapped) address, or 0 if invalid.
func FamilyOf(a netip.Addr) Family {
	switch {
	case !a.IsValid():
		return 0
	case a.Unmap().Is4():
		return IPv4
	}
	return IPv6
}

// AuthType is the VRRPv2 authentication type (RFC 2338; RFC 3768 keeps the field).
type AuthType uint8

// Authentication types. Only none and simple text password (keepalived's
// "PASS") are implemented; AH is recognised so it can be refused.
const (
	AuthNone AuthType = 0
	AuthPass AuthType = 1
	AuthAH   AuthType = 2
)

// String returns the keepalived-style name.
func (a AuthType) String() string {
	switch a {
	case AuthNone:
		return "none"
	case AuthPass:
		return "PASS"
	case AuthAH:
		return "AH"
	}
	return fmt.Sprintf("auth(%d)", uint8(a))
}

// Packet is one VRRP message (the IP payload).
//
// v2 layout: version|type, VRID, priority, count, auth type, advert interval
// (s), checksum, addresses, 8 bytes auth data. v3 layout: version|type, VRID,
// priority, count, 4 reserved bits + 12-bit max advert interval (cs),
// checksum, addresses.
type Packet struct {
	Version  uint8 // 2 or 3
	Type     uint8 // 4 bits; TypeAdvertisement is the only defined one
	VRID     uint8
	Priority uint8
	// Interval is the advertisement interval in wire units: seconds for v2
	// (8 bits), centiseconds for v3 (12 bits). See AdvertInterval.
	Interval uint16
	// Checksum is the checksum read by Unmarshal; Marshal computes its own.
	Checksum  uint16
	Addresses []netip.Addr
	AuthType  AuthType // v2 only
	AuthData  [8]byte  // v2 only: the PASS password, zero padded
}

// AdvertInterval converts Interval to a duration.
func (p *Packet) AdvertInterval() time.Duration {
	return IntervalFromWire(p.Version, p.Interval)
}

// IntervalFromWire converts a wire interval (v2 seconds, v3 centiseconds).
func IntervalFromWire(version uint8, v uint16) time.Duration {
	if version == Version2 {
		return time.Duration(v) * time.Second
	}
	return time.Duration(v) * 10 * time.Millisecond
}

// IntervalToWire converts a duration to wire units, failing when it is not
// representable: v2 takes whole seconds 1..255, v3 multiples of 10 ms from
// 10 ms to 40.95 s.
func IntervalToWire(version uint8, d time.Duration) (uint16, error) {
	unit, limit := 10*time.Millisecond, time.Duration(maxV3Interval)
	if version == Version2 {
		unit, limit = time.Second, maxV2Interval
	}
	if d%unit != 0 || d < unit || d/unit > limit {
		return 0, fmt.Errorf("vrrp: advert interval %v not representable in v%d (multiples of %v, %v..%v)",
			d, version, unit, unit, limit*unit)
	}
	return uint16(d / unit), nil
}

// Family is the family of the first address, or 0 without addresses.
func (p *Packet) Family() Family {
	if len(p.Addresses) == 0 {
		return 0
	}
	return FamilyOf(p.Addresses[0])
}

// DecodeError is a malformed message; Reason is its receive-check counter key.
type DecodeError struct {
	Reason Reason
	Detail string
}

func (e *DecodeError) Error() string {
	return "vrrp: " + string(e.Reason) + ": " + e.Detail
}

func decodeErr(r Reason, format string, args ...any) error {
	return &DecodeError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// messageLen is the exact length of a message with n addresses.
func messageLen(version uint8, fam Family, n int) int {
	l := headerLen + n*fam.addrLen()
	if version == Version2 {
		l += authDataLen
	}
	return l
}

// Marshal encodes p and fills in the checksum. src and dst are the IP source
// and destination the message will be sent with; v3 needs them for the
// pseudo-header, v2 ignores them. All addresses must be of one family, v2 only
// IPv4; the count is 1..255.
func (p *Packet) Marshal(src, dst netip.Addr) ([]byte, error) {
	if p.Version != Version2 && p.Version != Version3 {
		return nil, fmt.Errorf("vrrp: marshal: version %d", p.Version)
	}
	if p.Type > 0x0f {
		return nil, fmt.Errorf("vrrp: marshal: type %d does not fit 4 bits", p.Type)
	}
	n := len(p.Addresses)
	if n == 0 || n > 255 {
		return nil, fmt.Errorf("vrrp: marshal: %d addresses, want 1..255", n)
	}
	fam := p.Family()
	for _, a := range p.Addresses {
		if FamilyOf(a) != fam {
			return nil, fmt.Errorf("vrrp: marshal: address %v is not %v like %v", a, fam, p.Addresses[0])
		}
	}
	b := make([]byte, messageLen(p.Version, fam, n))
	b[0] = p.Version<<4 | p.Type
	b[1], b[2], b[3] = p.VRID, p.Priority, uint8(n)
	switch p.Version {
	case Version2:
		if fam != IPv4 {
			return nil, fmt.Errorf("vrrp: marshal: VRRPv2 is IPv4 only")
		}
		if p.Interval > maxV2Interval {
			return nil, fmt.Errorf("vrrp: marshal: v2 interval %d s does not fit 8 bits", p.Interval)
		}
		b[4], b[5] = uint8(p.AuthType), uint8(p.Interval)
		copy(b[len(b)-authDataLen:], p.AuthData[:])
	case Version3:
		if p.Interval > maxV3Interval {
			return nil, fmt.Errorf("vrrp: marshal: v3 interval %d cs does not fit 12 bits", p.Interval)
		}
		if p.AuthType != AuthNone || p.AuthData != [8]byte{} {
			return nil, fmt.Errorf("vrrp: marshal: VRRPv3 has no authentication")
		}
		if FamilyOf(src) != fam || FamilyOf(dst) != fam {
			return nil, fmt.Errorf("vrrp: marshal: v3 pseudo-header %v > %v is not %v", src, dst, fam)
		}
		binary.BigEndian.PutUint16(b[4:], p.Interval)
	}
	off := headerLen
	for _, a := range p.Addresses {
		if fam == IPv4 {
			a4 := a.Unmap().As4()
			off += copy(b[off:], a4[:])
		} else {
			a16 := a.As16()
			off += copy(b[off:], a16[:])
		}
	}
	binary.BigEndian.PutUint16(b[6:], checksum(p.Version, src, dst, b))
	return b, nil
}

// Unmarshal parses a VRRP message received in family fam. It checks the
// structure only (version 2 or 3, v2 only over IPv4, a count of 1..255, a
// length exactly matching the count); the type, checksum and everything
// instance-specific are left to Decode and Config.Check. Errors are
// *DecodeError. The v3 reserved bits are ignored, as RFC 5798 says.
func Unmarshal(b []byte, fam Family) (*Packet, error) {
	if fam != IPv4 && fam != IPv6 {
		return nil, decodeErr(ReasonFamily, "unknown family %d", fam)
	}
	if len(b) < headerLen {
		return nil, decodeErr(ReasonTooShort, "%d bytes, want at least %d", len(b), headerLen)
	}
	p := &Packet{Version: b[0] >> 4, Type: b[0] & 0x0f, VRID: b[1], Priority: b[2]}
	n := int(b[3])
	switch {
	case p.Version != Version2 && p.Version != Version3:
		return nil, decodeErr(ReasonVersion, "version %d", p.Version)
	case p.Version == Version2 && fam != IPv4:
		return nil, decodeErr(ReasonVersion, "VRRPv2 over %v", fam)
	case n == 0:
		return nil, decodeErr(ReasonAddrCount, "no addresses")
	}
	if want := messageLen(p.Version, fam, n); len(b) != want {
		return nil, decodeErr(ReasonLength, "%d bytes for %d %v addresses (v%d), want %d", len(b), n, fam, p.Version, want)
	}
	if p.Version == Version2 {
		p.AuthType, p.Interval = AuthType(b[4]), uint16(b[5])
		copy(p.AuthData[:], b[len(b)-authDataLen:])
	} else {
		p.Interval = binary.BigEndian.Uint16(b[4:]) & maxV3Interval
	}
	p.Checksum = binary.BigEndian.Uint16(b[6:])
	p.Addresses = make([]netip.Addr, n)
	al := fam.addrLen()
	for i := range n {
		p.Addresses[i], _ = netip.AddrFromSlice(b[headerLen+i*al : headerLen+(i+1)*al])
		if fam == IPv6 && p.Addresses[i].Is4In6() {
			// Found by fuzzing: it would read back as an IPv4 address.
			return nil, decodeErr(ReasonFamily, "address %v is IPv4-mapped in an IPv6 advertisement", p.Addresses[i])
		}
	}
	return p, nil
}
