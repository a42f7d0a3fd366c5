package vrrp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// readPcap extracts the VRRP messages (IP protocol 112) from a classic pcap
// file with Ethernet link type, as tcpdump -w writes it. Test helper only.
func readPcap(b []byte) ([]Received, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("pcap: %d bytes, no global header", len(b))
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("pcap: bad magic %x", b[:4])
	}
	if lt := bo.Uint32(b[20:]); lt != 1 {
		return nil, fmt.Errorf("pcap: link type %d, want 1 (Ethernet)", lt)
	}
	var out []Received
	for off := 24; off < len(b); {
		if len(b)-off < 16 {
			return nil, fmt.Errorf("pcap: truncated record header at %d", off)
		}
		n := int(bo.Uint32(b[off+8:]))
		off += 16
		if len(b)-off < n {
			return nil, fmt.Errorf("pcap: truncated record at %d", off)
		}
		frame := b[off : off+n]
		off += n
		r, ok, err := vrrpFromFrame(frame)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// vrrpFromFrame returns the VRRP message of an Ethernet frame, if it is one.
func vrrpFromFrame(f []byte) (Received, bool, error) {
	if len(f) < 14 {
		return Received{}, false, fmt.Errorf("pcap: frame of %d bytes", len(f))
	}
	et, ip := binary.BigEndian.Uint16(f[12:]), f[14:]
	switch et {
	case 0x0800:
		if len(ip) < 20 {
			return Received{}, false, fmt.Errorf("pcap: short IPv4 header")
		}
		ihl, total := int(ip[0]&0x0f)*4, int(binary.BigEndian.Uint16(ip[2:]))
		if ip[9] != IPProtocol {
			return Received{}, false, nil
		}
		if total > len(ip) || ihl > total {
			return Received{}, false, fmt.Errorf("pcap: bad IPv4 lengths %d/%d", ihl, total)
		}
		src, _ := netip.AddrFromSlice(ip[12:16])
		dst, _ := netip.AddrFromSlice(ip[16:20])
		return Received{TTL: ip[8], Src: src, Dst: dst, Payload: ip[ihl:total]}, true, nil
	case 0x86dd:
		if len(ip) < 40 {
			return Received{}, false, fmt.Errorf("pcap: short IPv6 header")
		}
		if ip[6] != IPProtocol {
			return Received{}, false, nil
		}
		pl := int(binary.BigEndian.Uint16(ip[4:]))
		if 40+pl > len(ip) {
			return Received{}, false, fmt.Errorf("pcap: bad IPv6 payload length %d", pl)
		}
		src, _ := netip.AddrFromSlice(ip[8:24])
		dst, _ := netip.AddrFromSlice(ip[24:40])
		return Received{TTL: ip[7], Src: src, Dst: dst, Payload: ip[40 : 40+pl]}, true, nil
	}
	return Received{}, false, nil
}
