package vip

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/mdlayher/packet"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Sender is the Linux Announcer: gratuitous ARP through an AF_PACKET socket
// (mdlayher/packet), neighbour adverts through one ICMPv6 raw socket with
// hop limit 255 and the source and interface given per message.
type Sender struct {
	mu sync.Mutex
	c6 *icmp.PacketConn
}

// GARP implements Announcer.
func (s *Sender) GARP(ifindex int, mac net.HardwareAddr, ip netip.Addr) error {
	frame, err := GARPFrame(mac, ip)
	if err != nil {
		return err
	}
	c, err := packet.Listen(&net.Interface{Index: ifindex}, packet.Raw, unix.ETH_P_ARP, nil)
	if err != nil {
		return fmt.Errorf("vip: packet socket on ifindex %d: %w", ifindex, err)
	}
	defer c.Close()
	if _, err := c.WriteTo(frame, &packet.Addr{HardwareAddr: Broadcast}); err != nil {
		return fmt.Errorf("vip: gratuitous ARP for %v on ifindex %d: %w", ip, ifindex, err)
	}
	return nil
}

// NA implements Announcer.
func (s *Sender) NA(ifindex int, mac net.HardwareAddr, src, target netip.Addr) error {
	msg, err := NAMessage(mac, target)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c6 == nil {
		c, err := icmp.ListenPacket("ip6:ipv6-icmp", "::")
		if err != nil {
			return fmt.Errorf("vip: ICMPv6 socket: %w", err)
		}
		p := c.IPv6PacketConn()
		if err := p.SetMulticastHopLimit(255); err != nil {
			c.Close()
			return fmt.Errorf("vip: ICMPv6 hop limit: %w", err)
		}
		// Only send: receive nothing.
		var f ipv6.ICMPFilter
		f.SetAll(true)
		_ = p.SetICMPFilter(&f)
		s.c6 = c
	}
	cm := &ipv6.ControlMessage{HopLimit: 255, Src: src.AsSlice(), IfIndex: ifindex}
	if _, err := s.c6.IPv6PacketConn().WriteTo(msg, cm, &net.IPAddr{IP: AllNodes.AsSlice()}); err != nil {
		return fmt.Errorf("vip: neighbour advert for %v on ifindex %d: %w", target, ifindex, err)
	}
	return nil
}

// Close releases the ICMPv6 socket.
func (s *Sender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c6 == nil {
		return nil
	}
	err := s.c6.Close()
	s.c6 = nil
	return err
}
