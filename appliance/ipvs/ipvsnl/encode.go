package ipvsnl

import (
	"errors"
	"fmt"
	"net/netip"
)

// Encoding follows the kernel's parsers in net/netfilter/ipvs/ip_vs_ctl.c
// (ip_vs_genl_parse_service, ip_vs_genl_parse_dest, ip_vs_genl_new_daemon,
// ip_vs_genl_set_config). Nested attributes are written without NLA_F_NESTED, like
// the kernel's own replies. Integers are in host order except ports and IPv4
// netmasks/groups, which are in network order.

// abuf is an attribute list being appended to. Appending in place (instead of
// building attribute values and marshalling them) keeps a large batch free of
// per-attribute allocations.
type abuf []byte

// attr appends an attribute header and data, padded to 4 bytes.
func (a *abuf) attr(t uint16, data ...byte) {
	b := ne.AppendUint16(*a, uint16(4+len(data)))
	b = ne.AppendUint16(b, t)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	*a = b
}

func (a *abuf) u8(t uint16, v uint8)   { a.attr(t, v) }
func (a *abuf) u16(t uint16, v uint16) { a.attr(t, ne.AppendUint16(make([]byte, 0, 2), v)...) }
func (a *abuf) u32(t uint16, v uint32) { a.attr(t, ne.AppendUint32(make([]byte, 0, 4), v)...) }
func (a *abuf) be16(t uint16, v uint16) {
	a.attr(t, byte(v>>8), byte(v))
}
func (a *abuf) be32(t uint16, v uint32) {
	a.attr(t, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
func (a *abuf) str(t uint16, s string) { a.attr(t, append([]byte(s), 0)...) }
func (a *abuf) raw(t uint16, b []byte) { a.attr(t, b...) }

// nest appends a nested attribute whose content fn appends. Like the kernel's own
// replies (and libnl's requests) it does not set NLA_F_NESTED.
func (a *abuf) nest(t uint16, fn func() error) error {
	start := len(*a)
	*a = append(*a, 0, 0, 0, 0)
	if err := fn(); err != nil {
		*a = (*a)[:start]
		return err
	}
	ne.PutUint16((*a)[start:], uint16(len(*a)-start))
	ne.PutUint16((*a)[start+2:], t)
	return nil
}

// inetAddr encodes an address as a union nf_inet_addr (16 bytes; IPv4 in the first 4).
func inetAddr(a netip.Addr) []byte {
	b := make([]byte, 16)
	if a.Is4() {
		v := a.As4()
		copy(b, v[:])
	} else {
		v := a.As16()
		copy(b, v[:])
	}
	return b
}

// checkAddr verifies that a is valid and of family af.
func checkAddr(what string, af uint16, a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%s: no address", what)
	}
	if AFOf(a) != af {
		return fmt.Errorf("%s: address %s is not of family %s", what, a, afName(af))
	}
	return nil
}

func checkName(what, name string, max int) error {
	if len(name) >= max {
		return fmt.Errorf("%s %q: longer than %d characters", what, name, max-1)
	}
	return nil
}

// appendService appends the content of IPVS_CMD_ATTR_SERVICE. Without full only
// the identifying attributes are written (what DEL_SERVICE, GET_DEST and the
// destination commands need).
func appendService(a *abuf, s Service, full bool) error {
	if s.Family != AFInet && s.Family != AFInet6 {
		return fmt.Errorf("service %s: address family %d is not AF_INET or AF_INET6", s, s.Family)
	}
	if s.FWMark == 0 {
		if err := checkAddr("service", s.Family, s.Addr); err != nil {
			return err
		}
	}
	if full {
		if s.Scheduler == "" {
			return fmt.Errorf("service %s: no scheduler", s)
		}
		if err := checkName("scheduler", s.Scheduler, schedNameMax); err != nil {
			return err
		}
		if err := checkName("persistence engine", s.PE, peNameMax); err != nil {
			return err
		}
	}
	a.u16(svcAttrAF, s.Family)
	if s.FWMark != 0 {
		a.u32(svcAttrFWMark, s.FWMark)
	} else {
		a.u16(svcAttrProtocol, s.Protocol)
		a.raw(svcAttrAddr, inetAddr(s.Addr))
		a.be16(svcAttrPort, s.Port)
	}
	if !full {
		return nil
	}
	a.str(svcAttrSchedName, s.Scheduler)
	if s.PE != "" {
		a.str(svcAttrPEName, s.PE)
	}
	// struct ip_vs_flags: we own every flag, so the mask is ~0.
	flags := ne.AppendUint32(make([]byte, 0, 8), s.Flags&^SvcFlagHashed)
	a.raw(svcAttrFlags, ne.AppendUint32(flags, ^uint32(0)))
	a.u32(svcAttrTimeout, s.Timeout)
	if s.Family == AFInet {
		a.be32(svcAttrNetmask, s.Netmask)
	} else {
		a.u32(svcAttrNetmask, s.Netmask)
	}
	return nil
}

// appendDest appends the content of IPVS_CMD_ATTR_DEST; without full only the
// identifying attributes (DEL_DEST).
func appendDest(a *abuf, d Destination, full bool) error {
	af := d.Family
	if af == 0 {
		af = AFOf(d.Addr)
	}
	if err := checkAddr("destination", af, d.Addr); err != nil {
		return err
	}
	if full && d.Weight < 0 {
		return fmt.Errorf("destination %s: negative weight %d", d, d.Weight)
	}
	a.u16(destAttrAddrFamily, af)
	a.raw(destAttrAddr, inetAddr(d.Addr))
	a.be16(destAttrPort, d.Port)
	if !full {
		return nil
	}
	a.u32(destAttrFwdMethod, d.FwdMethod&FwdMask)
	a.u32(destAttrWeight, uint32(d.Weight))
	a.u32(destAttrUThresh, d.UThreshold)
	a.u32(destAttrLThresh, d.LThreshold)
	if d.TunType != 0 {
		a.u8(destAttrTunType, d.TunType)
	}
	if d.TunPort != 0 {
		a.be16(destAttrTunPort, d.TunPort)
	}
	if d.TunFlags != 0 {
		a.u16(destAttrTunFlags, d.TunFlags)
	}
	return nil
}

// appendDaemon appends the content of IPVS_CMD_ATTR_DAEMON; without full only the
// state (DEL_DAEMON).
func appendDaemon(a *abuf, d Daemon, full bool) error {
	if d.State != StateMaster && d.State != StateBackup {
		return fmt.Errorf("sync daemon: state %d is neither master nor backup", d.State)
	}
	if full {
		if d.Interface == "" {
			return errors.New("sync daemon: no multicast interface")
		}
		if err := checkName("sync daemon interface", d.Interface, ifNameMax); err != nil {
			return err
		}
	}
	a.u32(daemonAttrState, d.State)
	if !full {
		return nil
	}
	a.str(daemonAttrMcastIfn, d.Interface)
	a.u32(daemonAttrSyncID, d.SyncID)
	if d.MaxLen != 0 {
		a.u16(daemonAttrSyncMaxLen, d.MaxLen)
	}
	switch {
	case !d.Group.IsValid():
	case d.Group.Is4():
		g := d.Group.As4()
		a.raw(daemonAttrMcastGroup, g[:])
	default:
		g := d.Group.As16()
		a.raw(daemonAttrMcastGroup6, g[:])
	}
	if d.Port != 0 {
		a.u16(daemonAttrMcastPort, d.Port)
	}
	if d.TTL != 0 {
		a.u8(daemonAttrMcastTTL, d.TTL)
	}
	return nil
}

// appendTimeouts appends the SET_CONFIG attributes (only the non-zero timeouts).
func appendTimeouts(a *abuf, t Timeouts) {
	if t.TCP != 0 {
		a.u32(cmdAttrTimeoutTCP, t.TCP)
	}
	if t.TCPFin != 0 {
		a.u32(cmdAttrTimeoutTCPFin, t.TCPFin)
	}
	if t.UDP != 0 {
		a.u32(cmdAttrTimeoutUDP, t.UDP)
	}
}

// appendRequest appends the attributes of a write request and returns its command.
func appendRequest(a *abuf, r Request) (Command, error) {
	switch r.Cmd {
	case CmdNewService, CmdSetService:
		return r.Cmd, a.nest(cmdAttrService, func() error { return appendService(a, r.Service, true) })
	case CmdDelService:
		return r.Cmd, a.nest(cmdAttrService, func() error { return appendService(a, r.Service.Key(), false) })
	case CmdNewDest, CmdSetDest, CmdDelDest:
		start := len(*a)
		if err := a.nest(cmdAttrService, func() error { return appendService(a, r.Service.Key(), false) }); err != nil {
			return r.Cmd, err
		}
		err := a.nest(cmdAttrDest, func() error { return appendDest(a, r.Dest, r.Cmd != CmdDelDest) })
		if err != nil {
			*a = (*a)[:start]
		}
		return r.Cmd, err
	}
	return r.Cmd, fmt.Errorf("%s is not a service or destination write", r.Cmd)
}

// The encode* functions return freshly allocated attribute lists (tests, single
// requests).

func encodeDaemon(d Daemon, full bool) ([]byte, error) {
	var a abuf
	err := appendDaemon(&a, d, full)
	return a, err
}

func encodeTimeouts(t Timeouts) ([]byte, error) {
	var a abuf
	appendTimeouts(&a, t)
	return a, nil
}

// MaskFromPrefix returns the kernel's netmask value for a prefix length: the IPv4
// mask as a number, or the IPv6 prefix length itself.
func MaskFromPrefix(af uint16, bits int) uint32 {
	if af == AFInet6 {
		return uint32(bits)
	}
	if bits <= 0 {
		return 0
	}
	return ^uint32(0) << (32 - min(bits, 32))
}

// PrefixFromMask is the inverse of MaskFromPrefix; ok is false for a non-contiguous
// IPv4 mask or an out-of-range IPv6 length.
func PrefixFromMask(af uint16, mask uint32) (bits int, ok bool) {
	if af == AFInet6 {
		return int(mask), mask <= 128
	}
	ones := 0
	for m := mask; m&0x80000000 != 0; m <<= 1 {
		ones++
	}
	return ones, MaskFromPrefix(AFInet, ones) == mask
}
