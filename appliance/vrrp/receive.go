package vrrp

import (
	"errors"
	"net/netip"
	"slices"
	"time"
)

// Reason says why a received message was dropped (or, for WarnAddrListOwner,
// accepted with a warning). Its string is the counter key.
type Reason string

// Receive-check reasons, in the order the checks run.
const (
	ReasonFamily    Reason = "family"     // src/dst invalid, of different families, not the instance's family, or an IPv4-mapped address in an IPv6 advert
	ReasonTTL       Reason = "ttl"        // IPv4 TTL / IPv6 hop limit is not 255
	ReasonTooShort  Reason = "too-short"  // shorter than the 8-byte fixed header
	ReasonVersion   Reason = "version"    // not 2 or 3, v2 over IPv6, or not the instance's version
	ReasonAddrCount Reason = "addr-count" // count of addresses is 0
	ReasonLength    Reason = "length"     // length does not match the address count
	ReasonType      Reason = "type"       // type is not 1 (advertisement)
	ReasonChecksum  Reason = "checksum"   // checksum wrong (v3: pseudo-header included)
	ReasonVRID      Reason = "vrid"       // VRID not this instance's
	ReasonOwnAdvert Reason = "own-advert" // sent from our own primary address (looped back or address clash)
	ReasonAuthType  Reason = "auth-type"  // v2 auth type differs from ours
	ReasonAuthData  Reason = "auth-data"  // v2 PASS password differs from ours
	ReasonInterval  Reason = "interval"   // v2: interval differs from ours; v2/v3: interval 0
	ReasonAddrList  Reason = "addr-list"  // address count/list differs from ours and the sender is not the owner

	// WarnAddrListOwner marks an accepted advert from the owner (priority
	// 255) whose address list differs from ours: RFC 5798 7.1 says log it and
	// go on.
	WarnAddrListOwner Reason = "addr-list-owner"
)

// Reasons lists every Reason, for registering counters up front.
func Reasons() []Reason {
	return []Reason{
		ReasonFamily, ReasonTTL, ReasonTooShort, ReasonVersion, ReasonAddrCount, ReasonLength,
		ReasonType, ReasonChecksum, ReasonVRID, ReasonOwnAdvert, ReasonAuthType,
		ReasonAuthData, ReasonInterval, ReasonAddrList, WarnAddrListOwner,
	}
}

// Received is one VRRP message as the socket layer saw it.
type Received struct {
	TTL     uint8      // IPv4 TTL or IPv6 hop limit
	Src     netip.Addr // IP source
	Dst     netip.Addr // IP destination (the group, or ours for unicast)
	Payload []byte     // the IP payload: the VRRP message
}

// Verdict is the outcome of the receive checks.
type Verdict struct {
	Src    netip.Addr // the unmapped IP source
	Packet *Packet    // the decoded message; nil if it did not decode
	Drop   Reason     // why it was dropped; "" if accepted
	Warn   Reason     // a warning on an accepted message, or ""
}

// Accepted reports whether the message passed every check.
func (v Verdict) Accepted() bool { return v.Drop == "" }

// Advert is the state machine's view of an accepted message; call it only
// when Accepted is true.
func (v Verdict) Advert() Advert {
	return Advert{Src: v.Src, Priority: v.Packet.Priority, Interval: v.Packet.AdvertInterval()}
}

// Decode runs the instance-independent checks (RFC 5798 7.1 / RFC 3768 7.1):
// address family, TTL 255, structure (version, count, length), type and
// checksum. Use it once per message, look the instance up by VRID, then call
// Config.CheckDecoded.
func Decode(in Received) Verdict {
	src, dst := in.Src.Unmap(), in.Dst.Unmap()
	v := Verdict{Src: src}
	fam := FamilyOf(src)
	if fam == 0 || FamilyOf(dst) != fam {
		v.Drop = ReasonFamily
		return v
	}
	if in.TTL != TTL {
		v.Drop = ReasonTTL
		return v
	}
	p, err := Unmarshal(in.Payload, fam)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			v.Drop = de.Reason
		} else {
			v.Drop = ReasonLength
		}
		return v
	}
	v.Packet = p
	switch {
	case p.Type != TypeAdvertisement:
		v.Drop = ReasonType
	case !ChecksumOK(p.Version, src, dst, in.Payload):
		v.Drop = ReasonChecksum
	}
	return v
}

// Check runs every receive check for this instance: Decode, then CheckDecoded.
func (c *Config) Check(in Received) Verdict {
	return c.CheckDecoded(Decode(in))
}

// CheckDecoded runs the instance checks on a Decode verdict: family and
// version match, VRID, own advert, v2 authentication, interval
// (v2: must equal ours; v3: backups learn it, only 0 is refused), and the
// address list (a mismatch drops unless the sender is the owner). A verdict
// that is already a drop is returned unchanged.
func (c *Config) CheckDecoded(v Verdict) Verdict {
	if !v.Accepted() {
		return v
	}
	p := v.Packet
	cfgIV, _ := IntervalToWire(c.Version, c.AdvertInterval)
	switch {
	case FamilyOf(v.Src) != c.Family():
		v.Drop = ReasonFamily
	case p.Version != c.Version:
		v.Drop = ReasonVersion
	case p.VRID != c.VRID:
		v.Drop = ReasonVRID
	case c.PrimaryAddr.IsValid() && v.Src == c.PrimaryAddr.Unmap():
		v.Drop = ReasonOwnAdvert
	case p.Version == Version2 && p.AuthType != c.AuthType:
		v.Drop = ReasonAuthType
	case p.Version == Version2 && p.AuthData != c.authData():
		v.Drop = ReasonAuthData
	case p.Interval == 0, p.Version == Version2 && p.Interval != cfgIV:
		v.Drop = ReasonInterval
	case !sameAddrs(p.Addresses, c.VIPs):
		if p.Priority == PriorityOwner {
			v.Warn = WarnAddrListOwner
		} else {
			v.Drop = ReasonAddrList
		}
	}
	return v
}

// sameAddrs compares address lists as sets of equal size (order is free).
func sameAddrs(got, want []netip.Addr) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !slices.Contains(got, w.Unmap()) {
			return false
		}
	}
	return true
}

// Advert is an accepted advertisement as the state machine needs it.
type Advert struct {
	Src      netip.Addr    // the sender's primary address (IP source)
	Priority uint8         // 0 = the master is stopping
	Interval time.Duration // the sender's advert interval (v3 Max_Adver_Int)
}
