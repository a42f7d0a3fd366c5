package vrnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
)

// tosNetworkControl is the IPv4 TOS / IPv6 traffic class of adverts
// (precedence 6, "internetwork control"), as keepalived sends them.
const tosNetworkControl = 0xc0

// RawConn is the Linux Conn: a raw IP socket for protocol 112 bound to one
// interface (SO_BINDTODEVICE), with multicast loopback off.
type RawConn struct {
	fam     vrrp.Family
	ifindex int
	p4      *ipv4.PacketConn
	p6      *ipv6.PacketConn
	c       net.PacketConn
}

// Open opens the VRRP socket of family fam on interface ifname and joins the
// VRRP group there. It needs CAP_NET_RAW.
func Open(ifname string, fam vrrp.Family) (*RawConn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("vrnet: interface %s: %w", ifname, err)
	}
	var sockErr error
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		err := rc.Control(func(fd uintptr) {
			sockErr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname)
			if sockErr == nil {
				// Room for bursts while the instance goroutine is busy.
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
			}
		})
		if err != nil {
			return err
		}
		return sockErr
	}}
	network, laddr := "ip4:112", "0.0.0.0"
	if fam == vrrp.IPv6 {
		network, laddr = "ip6:112", "::"
	}
	c, err := lc.ListenPacket(context.Background(), network, laddr)
	if err != nil {
		return nil, fmt.Errorf("vrnet: open %s socket on %s: %w", fam, ifname, err)
	}
	rc := &RawConn{fam: fam, ifindex: ifi.Index, c: c}
	if err := rc.setup(ifi); err != nil {
		c.Close()
		return nil, fmt.Errorf("vrnet: %s socket on %s: %w", fam, ifname, err)
	}
	return rc, nil
}

func (rc *RawConn) setup(ifi *net.Interface) error {
	if rc.fam == vrrp.IPv6 {
		p := ipv6.NewPacketConn(rc.c)
		rc.p6 = p
		return errors.Join(
			p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true),
			p.SetMulticastHopLimit(vrrp.TTL),
			p.SetHopLimit(vrrp.TTL),
			p.SetMulticastLoopback(false),
			p.SetMulticastInterface(ifi),
			p.SetTrafficClass(tosNetworkControl),
			p.JoinGroup(ifi, &net.IPAddr{IP: vrrp.GroupIPv6.AsSlice()}),
		)
	}
	p := ipv4.NewPacketConn(rc.c)
	rc.p4 = p
	return errors.Join(
		p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true),
		p.SetMulticastTTL(vrrp.TTL),
		p.SetTTL(vrrp.TTL),
		p.SetMulticastLoopback(false),
		p.SetMulticastInterface(ifi),
		p.SetTOS(tosNetworkControl),
		p.JoinGroup(ifi, &net.IPAddr{IP: vrrp.GroupIPv4.AsSlice()}),
	)
}

// IfIndex is the interface the socket is bound to.
func (rc *RawConn) IfIndex() int { return rc.ifindex }

// Receive implements Conn.
func (rc *RawConn) Receive(buf []byte) (Message, error) {
	var m Message
	if rc.p6 != nil {
		n, cm, src, err := rc.p6.ReadFrom(buf)
		m.At = time.Now()
		if err != nil {
			return m, err
		}
		m.Payload, m.Src = buf[:n], addrOf(src)
		if cm != nil {
			m.TTL, m.IfIndex = uint8(cm.HopLimit), cm.IfIndex
			m.Dst, _ = netip.AddrFromSlice(cm.Dst)
		}
		return m, nil
	}
	n, cm, src, err := rc.p4.ReadFrom(buf)
	m.At = time.Now()
	if err != nil {
		return m, err
	}
	m.Payload, m.Src = buf[:n], addrOf(src)
	if cm != nil {
		m.TTL, m.IfIndex = uint8(cm.TTL), cm.IfIndex
		m.Dst, _ = netip.AddrFromSlice(cm.Dst)
		m.Dst = m.Dst.Unmap()
	}
	return m, nil
}

func addrOf(a net.Addr) netip.Addr {
	if ia, ok := a.(*net.IPAddr); ok {
		// No zone: the socket is bound to one interface, and the state
		// machine compares sources with zone-less primary addresses.
		ip, _ := netip.AddrFromSlice(ia.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

// Send implements Conn.
func (rc *RawConn) Send(payload []byte, src, dst netip.Addr) error {
	var err error
	if rc.p6 != nil {
		cm := &ipv6.ControlMessage{HopLimit: vrrp.TTL, Src: src.WithZone("").AsSlice(), IfIndex: rc.ifindex}
		_, err = rc.p6.WriteTo(payload, cm, &net.IPAddr{IP: dst.AsSlice()})
	} else {
		cm := &ipv4.ControlMessage{Src: src.Unmap().AsSlice(), IfIndex: rc.ifindex}
		_, err = rc.p4.WriteTo(payload, cm, &net.IPAddr{IP: dst.Unmap().AsSlice()})
	}
	if err != nil {
		return fmt.Errorf("vrnet: send %v -> %v: %w", src, dst, err)
	}
	return nil
}

// Pending implements Conn: SIOCINQ on a raw socket is the length of the
// first queued datagram.
func (rc *RawConn) Pending() bool {
	sc, ok := rc.c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	_ = raw.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
	return n > 0
}

// Close implements Conn.
func (rc *RawConn) Close() error { return rc.c.Close() }
