package ipvs

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
)

// Protocol is an IP protocol number.
type Protocol uint16

// Protocols IPVS balances.
const (
	TCP  Protocol = 6
	UDP  Protocol = 17
	SCTP Protocol = 132
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case SCTP:
		return "sctp"
	}
	return fmt.Sprintf("proto%d", uint16(p))
}

// Forwarding is a destination's forwarding method.
type Forwarding uint8

// Forwarding methods. Local is only ever observed (the kernel's LOCALNODE).
const (
	NAT         Forwarding = iota // IP_VS_CONN_F_MASQ
	DirectRoute                   // IP_VS_CONN_F_DROUTE
	Tunnel                        // IP_VS_CONN_F_TUNNEL
	Local                         // IP_VS_CONN_F_LOCALNODE
)

func (f Forwarding) String() string {
	switch f {
	case NAT:
		return "nat"
	case DirectRoute:
		return "dr"
	case Tunnel:
		return "tun"
	case Local:
		return "local"
	}
	return fmt.Sprintf("fwd%d", uint8(f))
}

// Service flags (IP_VS_SVC_F_*). The kernel-internal HASHED flag is never part of a
// Service: Kernel implementations strip it when observing.
const (
	FlagPersistent uint32 = 0x0001
	FlagOnePacket  uint32 = 0x0004
	FlagSched1     uint32 = 0x0008
	FlagSched2     uint32 = 0x0010
	FlagSched3     uint32 = 0x0020
)

// ServiceKey identifies a virtual service: protocol+address+port, or firewall mark
// (with Family 4 or 6, and zero Protocol, Addr and Port).
type ServiceKey struct {
	FWMark   uint32
	Family   uint8 // 4 or 6; derived from Addr for non-fwmark keys
	Protocol Protocol
	Addr     netip.Addr
	Port     uint16
}

// AddrKey returns the key of a protocol+address+port service.
func AddrKey(p Protocol, a netip.Addr, port uint16) ServiceKey {
	fam := uint8(6)
	if a.Is4() {
		fam = 4
	}
	return ServiceKey{Family: fam, Protocol: p, Addr: a, Port: port}
}

// MarkKey returns the key of a firewall-mark service.
func MarkKey(family uint8, mark uint32) ServiceKey {
	return ServiceKey{FWMark: mark, Family: family}
}

func (k ServiceKey) String() string {
	if k.FWMark != 0 {
		return fmt.Sprintf("fwmark/%d/ipv%d", k.FWMark, k.Family)
	}
	return fmt.Sprintf("%s/%s", k.Protocol, netip.AddrPortFrom(k.Addr, k.Port))
}

// Compare orders keys: address services by address, port, protocol, then fwmarks.
func (k ServiceKey) Compare(o ServiceKey) int {
	return cmp.Or(
		cmp.Compare(k.FWMark, o.FWMark),
		cmp.Compare(k.Family, o.Family),
		k.Addr.Compare(o.Addr),
		cmp.Compare(k.Port, o.Port),
		cmp.Compare(k.Protocol, o.Protocol),
	)
}

// Service is a virtual service's settings.
type Service struct {
	Key       ServiceKey
	Scheduler string
	Flags     uint32
	Timeout   uint32 // persistence timeout, seconds
	// Netmask is the persistence granularity as a prefix length (IPv4 0-32, IPv6
	// 1-128); services use 32 / 128 unless persistence says otherwise.
	Netmask uint8
}

// settingsEqual reports whether two services with the same key need no update.
func (s Service) settingsEqual(o Service) bool {
	return s.Scheduler == o.Scheduler && s.Flags == o.Flags && s.Timeout == o.Timeout && s.Netmask == o.Netmask
}

// DestinationKey identifies a destination within a service.
type DestinationKey struct {
	Addr netip.Addr
	Port uint16
}

func (k DestinationKey) String() string { return netip.AddrPortFrom(k.Addr, k.Port).String() }

// Compare orders destination keys by address then port.
func (k DestinationKey) Compare(o DestinationKey) int {
	return cmp.Or(k.Addr.Compare(o.Addr), cmp.Compare(k.Port, o.Port))
}

// Destination is a real server of a service.
type Destination struct {
	Key            DestinationKey
	Forwarding     Forwarding
	Weight         int
	UpperThreshold uint32 // 0: none
	LowerThreshold uint32 // 0: none

	// Observed only; Diff ignores them.
	ActiveConns   int
	InactiveConns int
}

func (d Destination) settingsEqual(o Destination) bool {
	return d.Forwarding == o.Forwarding && d.Weight == o.Weight &&
		d.UpperThreshold == o.UpperThreshold && d.LowerThreshold == o.LowerThreshold
}

// ServiceState is a service with its destinations, as desired or as observed.
type ServiceState struct {
	Service
	Destinations []Destination
}

// Kernel is the part of kernel IPVS lvsbox uses. Implementations are not required to
// be safe for concurrent use; the Reconciler calls them from one goroutine.
type Kernel interface {
	// Services returns every virtual service with its destinations.
	Services(ctx context.Context) ([]ServiceState, error)
	AddService(ctx context.Context, s Service) error
	UpdateService(ctx context.Context, s Service) error
	DeleteService(ctx context.Context, k ServiceKey) error
	AddDestination(ctx context.Context, s ServiceKey, d Destination) error
	UpdateDestination(ctx context.Context, s ServiceKey, d Destination) error
	DeleteDestination(ctx context.Context, s ServiceKey, d DestinationKey) error
}
