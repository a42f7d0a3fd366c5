package ipvs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	mobyipvs "github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrUnavailable means the running kernel has no IPVS (module ip_vs not loaded, or
// not built): the generic netlink family "IPVS" does not exist.
var ErrUnavailable = errors.New("IPVS is not available in this kernel (generic netlink family IPVS missing; is ip_vs loaded?)")

// flagHashed is the kernel-internal IP_VS_SVC_F_HASHED, set on every live service.
const flagHashed uint32 = 0x0002

// Netlink is the real Kernel: generic netlink through github.com/moby/ipvs.
type Netlink struct {
	mu sync.Mutex
	h  *mobyipvs.Handle
}

// OpenNetlink returns a Kernel for the current network namespace, or an error wrapping
// ErrUnavailable. It checks for the IPVS family itself before creating a moby handle,
// because moby/ipvs resolves the family only once per process: a handle made before
// ip_vs is loaded would never work, while this check can simply be retried.
func OpenNetlink() (*Netlink, error) {
	if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
		return nil, fmt.Errorf("ipvs: %w: %v", ErrUnavailable, err)
	}
	h, err := mobyipvs.New("")
	if err != nil {
		return nil, fmt.Errorf("ipvs: open netlink handle: %w", err)
	}
	return &Netlink{h: h}, nil
}

// Close releases the netlink socket.
func (n *Netlink) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.h.Close()
}

// Services lists every service and its destinations.
func (n *Netlink) Services(_ context.Context) ([]ServiceState, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	svcs, err := n.h.GetServices()
	if err != nil {
		return nil, err
	}
	out := make([]ServiceState, 0, len(svcs))
	for _, ms := range svcs {
		s := fromMobyService(ms)
		dsts, err := n.h.GetDestinations(ms)
		if err != nil {
			return nil, fmt.Errorf("list destinations of %s: %w", s.Key, err)
		}
		st := ServiceState{Service: s, Destinations: make([]Destination, 0, len(dsts))}
		for _, md := range dsts {
			st.Destinations = append(st.Destinations, fromMobyDestination(md))
		}
		out = append(out, st)
	}
	return out, nil
}

// AddService creates a service (IPVS_CMD_NEW_SERVICE).
func (n *Netlink) AddService(_ context.Context, s Service) error {
	return n.do(func() error { return n.h.NewService(toMobyService(s)) })
}

// UpdateService edits a service in place (IPVS_CMD_SET_SERVICE).
func (n *Netlink) UpdateService(_ context.Context, s Service) error {
	return n.do(func() error { return n.h.UpdateService(toMobyService(s)) })
}

// DeleteService removes a service and its destinations (IPVS_CMD_DEL_SERVICE).
func (n *Netlink) DeleteService(_ context.Context, k ServiceKey) error {
	return n.do(func() error { return n.h.DelService(toMobyService(Service{Key: k})) })
}

// AddDestination adds a destination (IPVS_CMD_NEW_DEST).
func (n *Netlink) AddDestination(_ context.Context, k ServiceKey, d Destination) error {
	return n.do(func() error { return n.h.NewDestination(toMobyService(Service{Key: k}), toMobyDestination(d)) })
}

// UpdateDestination edits a destination in place (IPVS_CMD_SET_DEST).
func (n *Netlink) UpdateDestination(_ context.Context, k ServiceKey, d Destination) error {
	return n.do(func() error { return n.h.UpdateDestination(toMobyService(Service{Key: k}), toMobyDestination(d)) })
}

// DeleteDestination removes a destination (IPVS_CMD_DEL_DEST).
func (n *Netlink) DeleteDestination(_ context.Context, k ServiceKey, d DestinationKey) error {
	return n.do(func() error {
		return n.h.DelDestination(toMobyService(Service{Key: k}), toMobyDestination(Destination{Key: d}))
	})
}

func (n *Netlink) do(f func() error) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return f()
}

func family(f uint8) uint16 {
	if f == 4 {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func toMobyService(s Service) *mobyipvs.Service {
	ms := &mobyipvs.Service{
		AddressFamily: family(s.Key.Family),
		FWMark:        s.Key.FWMark,
		Protocol:      uint16(s.Key.Protocol),
		Port:          s.Key.Port,
		SchedName:     s.Scheduler,
		Flags:         s.Flags,
		Timeout:       s.Timeout,
		Netmask:       netmaskToKernel(s.Key.Family, s.Netmask),
	}
	if s.Key.FWMark == 0 {
		ms.Address = net.IP(s.Key.Addr.AsSlice())
	}
	return ms
}

func fromMobyService(ms *mobyipvs.Service) Service {
	fam := uint8(6)
	if ms.AddressFamily == unix.AF_INET {
		fam = 4
	}
	s := Service{
		Key:       ServiceKey{FWMark: ms.FWMark, Family: fam},
		Scheduler: ms.SchedName,
		Flags:     ms.Flags &^ flagHashed,
		Timeout:   ms.Timeout,
		Netmask:   netmaskFromKernel(fam, ms.Netmask),
	}
	if ms.FWMark == 0 {
		addr, _ := netip.AddrFromSlice(ms.Address)
		s.Key.Protocol = Protocol(ms.Protocol)
		s.Key.Addr = addr.Unmap()
		s.Key.Port = ms.Port
	}
	return s
}

// netmaskToKernel encodes a persistence prefix length the way the kernel wants it
// through moby/ipvs (which writes the attribute in host byte order): IPv4 as the mask
// bytes in network order (so /32 is 255.255.255.255), IPv6 as the plain length.
func netmaskToKernel(fam, bits uint8) uint32 {
	if fam == 4 {
		return binary.NativeEndian.Uint32(net.CIDRMask(int(bits), 32))
	}
	return uint32(bits)
}

func netmaskFromKernel(fam uint8, v uint32) uint8 {
	if fam == 4 {
		ones, size := net.IPMask(binary.NativeEndian.AppendUint32(nil, v)).Size()
		if size == 0 {
			return 0 // non-contiguous: never what we write, so Diff updates it
		}
		return uint8(ones)
	}
	return uint8(min(v, 128))
}

func toMobyDestination(d Destination) *mobyipvs.Destination {
	fam := uint16(unix.AF_INET6)
	if d.Key.Addr.Is4() {
		fam = unix.AF_INET
	}
	return &mobyipvs.Destination{
		Address:         net.IP(d.Key.Addr.AsSlice()),
		Port:            d.Key.Port,
		Weight:          d.Weight,
		ConnectionFlags: forwardingToKernel(d.Forwarding),
		AddressFamily:   fam,
		UpperThreshold:  d.UpperThreshold,
		LowerThreshold:  d.LowerThreshold,
	}
}

func fromMobyDestination(md *mobyipvs.Destination) Destination {
	addr, _ := netip.AddrFromSlice(md.Address)
	return Destination{
		Key:            DestinationKey{Addr: addr.Unmap(), Port: md.Port},
		Forwarding:     forwardingFromKernel(md.ConnectionFlags),
		Weight:         md.Weight,
		UpperThreshold: md.UpperThreshold,
		LowerThreshold: md.LowerThreshold,
		ActiveConns:    md.ActiveConnections,
		InactiveConns:  md.InactiveConnections,
	}
}

// forwardingToKernel maps our method to IP_VS_CONN_F_MASQ / DROUTE / TUNNEL.
func forwardingToKernel(f Forwarding) uint32 {
	switch f {
	case DirectRoute:
		return mobyipvs.ConnFwdDirectRoute
	case Tunnel:
		return mobyipvs.ConnFwdTunnel
	case Local:
		return mobyipvs.ConnFwdLocalNode
	}
	return mobyipvs.ConnFwdMasq
}

func forwardingFromKernel(flags uint32) Forwarding {
	switch flags & mobyipvs.ConnFwdMask {
	case mobyipvs.ConnFwdMasq:
		return NAT
	case mobyipvs.ConnFwdDirectRoute:
		return DirectRoute
	case mobyipvs.ConnFwdTunnel:
		return Tunnel
	case mobyipvs.ConnFwdLocalNode:
		return Local
	}
	return Forwarding(100 + flags&mobyipvs.ConnFwdMask) // bypass: never desired
}
