package vrrp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Config is one virtual router instance on one interface.
type Config struct {
	// Version is 2 (RFC 3768, IPv4 only) or 3 (RFC 5798).
	Version uint8
	// VRID is the virtual router id, 1..255.
	VRID uint8
	// Priority is the base priority, 1..255; 255 means this router owns the
	// virtual addresses (it becomes master at once and ignores adverts).
	Priority uint8
	// AdvertInterval is the advertisement interval: v2 whole seconds 1..255,
	// v3 multiples of 10 ms from 10 ms to 40.95 s.
	AdvertInterval time.Duration
	// NoPreempt turns preemption off: a backup never takes over from a live
	// lower-priority master. The zero value preempts (the RFC default).
	NoPreempt bool
	// PreemptDelay holds preemption off for this long after the instance
	// starts (or leaves Fault); 0 preempts at once.
	PreemptDelay time.Duration
	// AcceptMode lets a non-owner master accept packets addressed to the
	// virtual addresses (RFC 5798 Accept_Mode). Carried for the caller; the
	// owner always accepts.
	AcceptMode bool
	// PrimaryAddr is the source address of our advertisements (IPv6: the
	// interface's link-local address). It breaks priority ties and lets the
	// receive check drop our own looped-back adverts. May be invalid until the
	// interface has an address; it then loses every tie.
	PrimaryAddr netip.Addr
	// VIPs are the virtual addresses, all of one family, in advert order.
	VIPs []netip.Addr
	// AuthType is the v2 authentication: AuthNone or AuthPass. v3 has none.
	AuthType AuthType
	// AuthPass is the v2 PASS password, 1..8 bytes.
	AuthPass string
}

// maxPayload is the VRRP message size that fits a 1500-byte MTU after the
// larger (IPv6) header.
const maxPayload = 1500 - 40

// Validate reports every problem in c at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Version {
	case Version2, Version3:
		if _, err := IntervalToWire(c.Version, c.AdvertInterval); err != nil {
			errs = append(errs, err)
		}
	default:
		bad("vrrp: version %d, want 2 or 3", c.Version)
	}
	if c.VRID == 0 {
		bad("vrrp: vrid 0, want 1..255")
	}
	if c.Priority == 0 {
		bad("vrrp: priority 0, want 1..255")
	}
	if c.PreemptDelay < 0 {
		bad("vrrp: negative preempt delay %v", c.PreemptDelay)
	}
	fam := Family(0)
	if len(c.VIPs) == 0 || len(c.VIPs) > 255 {
		bad("vrrp: %d virtual addresses, want 1..255", len(c.VIPs))
	} else {
		fam = FamilyOf(c.VIPs[0])
		for i, a := range c.VIPs {
			switch {
			case FamilyOf(a) != fam:
				bad("vrrp: virtual address %v is not %v like %v", a, fam, c.VIPs[0])
			case a.Unmap().IsUnspecified() || a.Unmap().IsMulticast():
				bad("vrrp: virtual address %v is not a unicast address", a)
			case slices.Contains(c.VIPs[:i], a):
				bad("vrrp: virtual address %v listed twice", a)
			}
		}
		if l := messageLen(c.Version, fam, len(c.VIPs)); l > maxPayload {
			bad("vrrp: %d %v addresses make a %d-byte advert, more than %d fits a 1500-byte MTU", len(c.VIPs), fam, l, maxPayload)
		}
	}
	if c.PrimaryAddr.IsValid() && fam != 0 && FamilyOf(c.PrimaryAddr) != fam {
		bad("vrrp: primary address %v is not %v like the virtual addresses", c.PrimaryAddr, fam)
	}
	if c.Version == Version2 && fam == IPv6 {
		bad("vrrp: VRRPv2 is IPv4 only; use version 3 for IPv6")
	}
	switch {
	case c.Version == Version3 && (c.AuthType != AuthNone || c.AuthPass != ""):
		bad("vrrp: VRRPv3 has no authentication")
	case c.AuthType == AuthNone && c.AuthPass != "":
		bad("vrrp: password without auth type PASS")
	case c.AuthType == AuthPass && (len(c.AuthPass) == 0 || len(c.AuthPass) > 8):
		bad("vrrp: PASS password of %d bytes, want 1..8", len(c.AuthPass))
	case c.AuthType != AuthNone && c.AuthType != AuthPass:
		bad("vrrp: auth type %v not supported (none or PASS)", c.AuthType)
	}
	return errors.Join(errs...)
}

// Family is the family of the virtual addresses.
func (c *Config) Family() Family {
	if len(c.VIPs) == 0 {
		return 0
	}
	return FamilyOf(c.VIPs[0])
}

// Group is the multicast destination of the instance's adverts.
func (c *Config) Group() netip.Addr {
	if c.Family() == IPv6 {
		return GroupIPv6
	}
	return GroupIPv4
}

// authData is the zero-padded PASS password.
func (c *Config) authData() (d [8]byte) {
	if c.AuthType == AuthPass {
		copy(d[:], c.AuthPass)
	}
	return d
}

// Advertisement builds the advert this instance sends with priority
// (Action.Priority). c must be valid.
func (c *Config) Advertisement(priority uint8) *Packet {
	iv, _ := IntervalToWire(c.Version, c.AdvertInterval)
	p := &Packet{
		Version:   c.Version,
		Type:      TypeAdvertisement,
		VRID:      c.VRID,
		Priority:  priority,
		Interval:  iv,
		Addresses: slices.Clone(c.VIPs),
	}
	if c.Version == Version2 {
		p.AuthType, p.AuthData = c.AuthType, c.authData()
	}
	return p
}

// SkewTime is Skew_Time for a router of priority that sees a master
// advertising every masterInterval: v3 (RFC 5798)
// ((256 - priority) * Master_Adver_Interval) / 256; v2 (RFC 3768)
// (256 - priority) / 256 seconds, independent of the interval.
func SkewTime(version, priority uint8, masterInterval time.Duration) time.Duration {
	if version == Version2 {
		masterInterval = time.Second
	}
	return time.Duration(256-int64(priority)) * masterInterval / 256
}

// MasterDownInterval is 3 * Master_Adver_Interval + Skew_Time.
func MasterDownInterval(version, priority uint8, masterInterval time.Duration) time.Duration {
	return 3*masterInterval + SkewTime(version, priority, masterInterval)
}

// EffectivePriority applies the sum of tracking weights delta to base: the
// owner (255) stays 255 unless delta is negative; otherwise the result is
// clamped to 1..254, so tracking can never make an instance send priority 0
// (which means "stopped") nor make a non-owner claim ownership.
func EffectivePriority(base uint8, delta int) uint8 {
	if base == PriorityOwner && delta >= 0 {
		return PriorityOwner
	}
	return uint8(min(max(int(base)+delta, 1), PriorityOwner-1))
}

// VirtualMAC is the virtual router MAC address: 00-00-5E-00-01-{VRID} for
// IPv4, 00-00-5E-00-02-{VRID} for IPv6.
func VirtualMAC(fam Family, vrid uint8) [6]byte {
	if fam == IPv6 {
		return [6]byte{0x00, 0x00, 0x5e, 0x00, 0x02, vrid}
	}
	return [6]byte{0x00, 0x00, 0x5e, 0x00, 0x01, vrid}
}
