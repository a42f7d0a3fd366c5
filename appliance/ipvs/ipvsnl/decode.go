package ipvsnl

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// Decoding follows the kernel's fill functions (ip_vs_genl_fill_service,
// ip_vs_genl_fill_dest, ip_vs_genl_fill_stats{,64}, ip_vs_genl_fill_daemon and the
// GET_INFO / GET_CONFIG replies). Unknown attributes are ignored, so newer kernels
// with more attributes still decode.

// attrs calls fn for each attribute of b (struct nlattr: u16 length including the
// 4-byte header, u16 type with the NLA_F_NESTED / NLA_F_NET_BYTEORDER flags, data
// padded to 4 bytes). It does not allocate: fn gets slices of b.
func attrs(b []byte, fn func(t uint16, data []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("%d trailing bytes after the attributes", len(b))
		}
		l := int(ne.Uint16(b))
		if l < 4 || l > len(b) {
			return fmt.Errorf("attribute length %d of %d bytes", l, len(b))
		}
		if err := fn(ne.Uint16(b[2:])&nlaTypeMask, b[4:l]); err != nil {
			return err
		}
		b = b[min(nlmsgAlign(l), len(b)):]
	}
	return nil
}

// nlaTypeMask strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from an attribute type.
const nlaTypeMask = 0x3fff

func getU8(what string, b []byte) (uint8, error) {
	if len(b) != 1 {
		return 0, fmt.Errorf("%s: %d bytes, want 1", what, len(b))
	}
	return b[0], nil
}

func getU16(what string, b []byte, order binary.ByteOrder) (uint16, error) {
	if len(b) != 2 {
		return 0, fmt.Errorf("%s: %d bytes, want 2", what, len(b))
	}
	return order.Uint16(b), nil
}

func getU32(what string, b []byte, order binary.ByteOrder) (uint32, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("%s: %d bytes, want 4", what, len(b))
	}
	return order.Uint32(b), nil
}

// getUint reads a u32 or u64 counter (the 32-bit stats mix both sizes).
func getUint(what string, b []byte) (uint64, error) {
	switch len(b) {
	case 4:
		return uint64(binary.NativeEndian.Uint32(b)), nil
	case 8:
		return binary.NativeEndian.Uint64(b), nil
	}
	return 0, fmt.Errorf("%s: %d bytes, want 4 or 8", what, len(b))
}

func getString(b []byte) string { s, _, _ := strings.Cut(string(b), "\x00"); return s }

// getAddr decodes a union nf_inet_addr (or a bare 4/16-byte address) of family af.
func getAddr(what string, af uint16, b []byte) (netip.Addr, error) {
	switch {
	case af == AFInet && len(b) >= 4:
		return netip.AddrFrom4([4]byte(b[:4])), nil
	case af == AFInet6 && len(b) >= 16:
		return netip.AddrFrom16([16]byte(b[:16])), nil
	}
	return netip.Addr{}, fmt.Errorf("%s: %d address bytes for family %s", what, len(b), afName(af))
}

var ne = binary.NativeEndian

func decodeStats(b []byte) (Stats, error) {
	var s Stats
	err := attrs(b, func(t uint16, d []byte) error {
		var field *uint64
		switch t {
		case statsAttrConns:
			field = &s.Conns
		case statsAttrInPkts:
			field = &s.InPkts
		case statsAttrOutPkts:
			field = &s.OutPkts
		case statsAttrInBytes:
			field = &s.InBytes
		case statsAttrOutBytes:
			field = &s.OutBytes
		case statsAttrCPS:
			field = &s.CPS
		case statsAttrInPPS:
			field = &s.InPPS
		case statsAttrOutPPS:
			field = &s.OutPPS
		case statsAttrInBPS:
			field = &s.InBPS
		case statsAttrOutBPS:
			field = &s.OutBPS
		default:
			return nil
		}
		v, err := getUint("stats counter", d)
		*field = v
		return err
	})
	return s, err
}

// decodeService decodes a nested IPVS_CMD_ATTR_SERVICE payload. STATS64 is used when
// present, else the 32-bit STATS (kernels before 4.1).
func decodeService(b []byte) (Service, error) {
	var (
		s           Service
		addr, mask  []byte
		st32, st64  []byte
		err         error
		haveNetmask bool
	)
	err = attrs(b, func(t uint16, d []byte) error {
		var err error
		switch t {
		case svcAttrAF:
			s.Family, err = getU16("af", d, ne)
		case svcAttrProtocol:
			s.Protocol, err = getU16("protocol", d, ne)
		case svcAttrAddr:
			addr = d
		case svcAttrPort:
			s.Port, err = getU16("port", d, binary.BigEndian)
		case svcAttrFWMark:
			s.FWMark, err = getU32("fwmark", d, ne)
		case svcAttrSchedName:
			s.Scheduler = getString(d)
		case svcAttrPEName:
			s.PE = getString(d)
		case svcAttrFlags:
			if len(d) != 8 { // struct ip_vs_flags
				return fmt.Errorf("flags: %d bytes, want 8", len(d))
			}
			s.Flags = ne.Uint32(d)
		case svcAttrTimeout:
			s.Timeout, err = getU32("timeout", d, ne)
		case svcAttrNetmask:
			mask, haveNetmask = d, true
		case svcAttrStats:
			st32 = d
		case svcAttrStats64:
			st64 = d
		}
		return err
	})
	if err != nil {
		return Service{}, fmt.Errorf("decode service: %w", err)
	}
	if s.Family != AFInet && s.Family != AFInet6 {
		return Service{}, fmt.Errorf("decode service: address family %d", s.Family)
	}
	if addr != nil && s.FWMark == 0 {
		if s.Addr, err = getAddr("service address", s.Family, addr); err != nil {
			return Service{}, fmt.Errorf("decode service: %w", err)
		}
	}
	if haveNetmask {
		order := binary.ByteOrder(ne)
		if s.Family == AFInet {
			order = binary.BigEndian
		}
		if s.Netmask, err = getU32("netmask", mask, order); err != nil {
			return Service{}, fmt.Errorf("decode service: %w", err)
		}
	}
	if st64 != nil {
		st32 = st64
	}
	if st32 != nil {
		if s.Stats, err = decodeStats(st32); err != nil {
			return Service{}, fmt.Errorf("decode service %s stats: %w", s, err)
		}
	}
	return s, nil
}

// decodeDest decodes a nested IPVS_CMD_ATTR_DEST payload. Without an address family
// attribute (kernels before 3.18) the destination has the service's family svcAF.
func decodeDest(b []byte, svcAF uint16) (Destination, error) {
	var (
		d          Destination
		addr       []byte
		st32, st64 []byte
	)
	err := attrs(b, func(t uint16, v []byte) error {
		var err error
		switch t {
		case destAttrAddr:
			addr = v
		case destAttrPort:
			d.Port, err = getU16("port", v, binary.BigEndian)
		case destAttrFwdMethod:
			d.FwdMethod, err = getU32("forwarding method", v, ne)
		case destAttrWeight:
			var w uint32
			w, err = getU32("weight", v, ne)
			d.Weight = int32(w)
		case destAttrUThresh:
			d.UThreshold, err = getU32("upper threshold", v, ne)
		case destAttrLThresh:
			d.LThreshold, err = getU32("lower threshold", v, ne)
		case destAttrActiveConns:
			d.ActiveConns, err = getU32("active connections", v, ne)
		case destAttrInactConns:
			d.InactConns, err = getU32("inactive connections", v, ne)
		case destAttrPersistConns:
			d.PersistConns, err = getU32("persistent connections", v, ne)
		case destAttrAddrFamily:
			d.Family, err = getU16("address family", v, ne)
		case destAttrTunType:
			d.TunType, err = getU8("tunnel type", v)
		case destAttrTunPort:
			d.TunPort, err = getU16("tunnel port", v, binary.BigEndian)
		case destAttrTunFlags:
			d.TunFlags, err = getU16("tunnel flags", v, ne)
		case destAttrStats:
			st32 = v
		case destAttrStats64:
			st64 = v
		}
		return err
	})
	if err != nil {
		return Destination{}, fmt.Errorf("decode destination: %w", err)
	}
	if d.Family == 0 {
		d.Family = svcAF
	}
	if d.Addr, err = getAddr("destination address", d.Family, addr); err != nil {
		return Destination{}, fmt.Errorf("decode destination: %w", err)
	}
	if st64 != nil {
		st32 = st64
	}
	if st32 != nil {
		if d.Stats, err = decodeStats(st32); err != nil {
			return Destination{}, fmt.Errorf("decode destination %s stats: %w", d, err)
		}
	}
	return d, nil
}

func decodeDaemon(b []byte) (Daemon, error) {
	var d Daemon
	err := attrs(b, func(t uint16, v []byte) error {
		var err error
		switch t {
		case daemonAttrState:
			d.State, err = getU32("state", v, ne)
		case daemonAttrMcastIfn:
			d.Interface = getString(v)
		case daemonAttrSyncID:
			d.SyncID, err = getU32("sync id", v, ne)
		case daemonAttrSyncMaxLen:
			d.MaxLen, err = getU16("sync maxlen", v, ne)
		case daemonAttrMcastGroup:
			if len(v) != 4 {
				return fmt.Errorf("multicast group: %d bytes, want 4", len(v))
			}
			d.Group = netip.AddrFrom4([4]byte(v))
		case daemonAttrMcastGroup6:
			if len(v) != 16 {
				return fmt.Errorf("multicast group: %d bytes, want 16", len(v))
			}
			d.Group = netip.AddrFrom16([16]byte(v))
		case daemonAttrMcastPort:
			d.Port, err = getU16("multicast port", v, ne)
		case daemonAttrMcastTTL:
			d.TTL, err = getU8("multicast ttl", v)
		}
		return err
	})
	if err != nil {
		return Daemon{}, fmt.Errorf("decode sync daemon: %w", err)
	}
	return d, nil
}

func decodeInfo(b []byte) (Info, error) {
	var i Info
	err := attrs(b, func(t uint16, v []byte) error {
		var err error
		switch t {
		case infoAttrVersion:
			i.Version, err = getU32("version", v, ne)
		case infoAttrConnTabSize:
			i.ConnTabSize, err = getU32("connection table size", v, ne)
		}
		return err
	})
	if err != nil {
		return Info{}, fmt.Errorf("decode info: %w", err)
	}
	return i, nil
}

func decodeTimeouts(b []byte) (Timeouts, error) {
	var to Timeouts
	err := attrs(b, func(t uint16, v []byte) error {
		var err error
		switch t {
		case cmdAttrTimeoutTCP:
			to.TCP, err = getU32("tcp timeout", v, ne)
		case cmdAttrTimeoutTCPFin:
			to.TCPFin, err = getU32("tcp fin timeout", v, ne)
		case cmdAttrTimeoutUDP:
			to.UDP, err = getU32("udp timeout", v, ne)
		}
		return err
	})
	if err != nil {
		return Timeouts{}, fmt.Errorf("decode config: %w", err)
	}
	return to, nil
}

// nestedOf returns the payload of top-level attribute typ of a reply.
func nestedOf(b []byte, typ uint16) ([]byte, error) {
	var out []byte
	err := attrs(b, func(t uint16, v []byte) error {
		if t == typ {
			out = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("reply without attribute %d", typ)
	}
	return out, nil
}
