package vip

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// Ethernet and ARP constants.
const (
	etherTypeARP = 0x0806
	arpRequest   = 1
)

// Broadcast is the Ethernet broadcast address.
var Broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// AllNodes is ff02::1, the destination of unsolicited neighbour adverts.
var AllNodes = netip.MustParseAddr("ff02::1")

// GARPFrame is a gratuitous ARP as an Ethernet frame: a broadcast ARP
// request with sender and target protocol address ip and sender hardware
// address mac (target hardware address zero, RFC 5227 announcement). Linux
// updates existing neighbour entries from it regardless of locktime.
func GARPFrame(mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	if len(mac) != 6 || !ip.Unmap().Is4() {
		return nil, fmt.Errorf("vip: gratuitous ARP needs a 6-byte MAC and an IPv4 address (%v, %v)", mac, ip)
	}
	b := make([]byte, 14+28)
	copy(b[0:6], Broadcast)
	copy(b[6:12], mac)
	binary.BigEndian.PutUint16(b[12:14], etherTypeARP)
	a := b[14:]
	binary.BigEndian.PutUint16(a[0:2], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:4], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:8], arpRequest)
	ip4 := ip.Unmap().As4()
	copy(a[8:14], mac)
	copy(a[14:18], ip4[:])
	// a[18:24] target hardware address: zero
	copy(a[24:28], ip4[:])
	return b, nil
}

// NAMessage is an unsolicited neighbour advertisement (RFC 4861 4.4) for
// target with the override flag set (router and solicited clear) and a
// target link-layer address option. The checksum is left zero: the kernel
// fills it in for ICMPv6 raw sockets.
func NAMessage(mac net.HardwareAddr, target netip.Addr) ([]byte, error) {
	if len(mac) != 6 || !target.Is6() || target.Is4In6() {
		return nil, fmt.Errorf("vip: neighbour advert needs a 6-byte MAC and an IPv6 address (%v, %v)", mac, target)
	}
	const overrideFlag = 0x20
	body := make([]byte, 4+16+8)
	body[0] = overrideFlag
	t := target.As16()
	copy(body[4:20], t[:])
	body[20], body[21] = 2, 1 // option: target link-layer address, 8 bytes
	copy(body[22:28], mac)
	m := icmp.Message{Type: ipv6.ICMPTypeNeighborAdvertisement, Body: &icmp.RawBody{Data: body}}
	return m.Marshal(nil)
}
