package ipvs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
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
	// PE is the persistence engine ("sip"); empty for none.
	PE string
}

// settingsEqual reports whether two services with the same key need no update.
func (s Service) settingsEqual(o Service) bool {
	return s.Scheduler == o.Scheduler && s.Flags == o.Flags && s.Timeout == o.Timeout &&
		s.Netmask == o.Netmask && s.PE == o.PE
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

// TunnelType is the encapsulation of a tunnelled destination
// (IP_VS_CONN_F_TUNNEL_TYPE_*); the zero value is IPIP.
type TunnelType uint8

// Tunnel types. GUE and GRE need kernel 5.3 or later.
const (
	TunnelIPIP TunnelType = iota
	TunnelGUE
	TunnelGRE
)

func (t TunnelType) String() string {
	switch t {
	case TunnelIPIP:
		return "ipip"
	case TunnelGUE:
		return "gue"
	case TunnelGRE:
		return "gre"
	}
	return fmt.Sprintf("tunnel%d", uint8(t))
}

// Tunnel encapsulation flags (IP_VS_TUNNEL_ENCAP_FLAG_*).
const (
	TunnelFlagCsum    uint16 = 1 << 0
	TunnelFlagRemCsum uint16 = 1 << 1
)

// Destination is a real server of a service. Its address family may differ from
// the service's only with tunnel forwarding.
type Destination struct {
	Key            DestinationKey
	Forwarding     Forwarding
	Weight         int
	UpperThreshold uint32 // 0: none
	LowerThreshold uint32 // 0: none
	// Tunnel settings, used with Tunnel forwarding (zero otherwise).
	TunnelType  TunnelType
	TunnelPort  uint16 // GUE destination port
	TunnelFlags uint16 // TunnelFlag*

	// Observed only; Diff ignores them.
	ActiveConns   int
	InactiveConns int
	PersistConns  int
	Stats         Stats
}

func (d Destination) settingsEqual(o Destination) bool {
	return d.Forwarding == o.Forwarding && d.Weight == o.Weight &&
		d.UpperThreshold == o.UpperThreshold && d.LowerThreshold == o.LowerThreshold &&
		d.TunnelType == o.TunnelType && d.TunnelPort == o.TunnelPort && d.TunnelFlags == o.TunnelFlags
}

// Stats are the kernel's counters of a service or destination since it was
// created (or zeroed) and its rate estimates (per second, over about 2 s).
// Outgoing packets and bytes are only seen for NAT.
type Stats struct {
	Connections uint64
	InPackets   uint64
	OutPackets  uint64
	InBytes     uint64
	OutBytes    uint64

	ConnectionRate uint64 // connections per second
	InPacketRate   uint64
	OutPacketRate  uint64
	InByteRate     uint64 // bytes per second
	OutByteRate    uint64
}

// ServiceState is a service with its destinations, as desired or as observed.
type ServiceState struct {
	Service
	Destinations []Destination
	Stats        Stats // observed only
}

// Kernel is the part of kernel IPVS lvsbox uses. Implementations are not required to
// be safe for concurrent use; the Reconciler calls them from one goroutine. A Kernel
// may also implement Batcher, ServiceReader and Globals.
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

// ErrNotSent marks a write that never reached the kernel (it could not be encoded,
// the context ended, or the transport failed before it was sent).
var ErrNotSent = errors.New("not sent")

// Batcher is a Kernel that writes many ops without one round trip each.
type Batcher interface {
	// Apply performs ops in order and returns one error per op (nil: applied). A
	// failed op never stops the others; ops never sent have errors wrapping
	// ErrNotSent.
	Apply(ctx context.Context, ops []Op) []error
}

// ServiceReader is a Kernel that can read one service without listing all.
type ServiceReader interface {
	// Service returns one service with its destinations; ok is false when the
	// kernel has no such service.
	Service(ctx context.Context, k ServiceKey) (s ServiceState, ok bool, err error)
}

// Info describes the kernel's IPVS.
type Info struct {
	Version     string // e.g. "1.2.1"
	ConnTabSize int    // connection hash table size
}

// Timeouts are IPVS connection timeouts (whole seconds in the kernel). Writing a
// zero timeout leaves it unchanged.
type Timeouts struct {
	TCP    time.Duration
	TCPFin time.Duration
	UDP    time.Duration
}

// SyncState is the role of a connection-sync daemon.
type SyncState uint8

// Sync daemon roles (IP_VS_STATE_MASTER, IP_VS_STATE_BACKUP).
const (
	SyncMaster SyncState = 1
	SyncBackup SyncState = 2
)

func (s SyncState) String() string {
	switch s {
	case SyncMaster:
		return "master"
	case SyncBackup:
		return "backup"
	}
	return fmt.Sprintf("state%d", uint8(s))
}

// SyncDaemon is a connection-sync daemon. Zero optional fields mean the kernel's
// defaults (group 224.0.0.81, port 8848, TTL 1, payload sized from the MTU).
type SyncDaemon struct {
	State     SyncState
	Interface string
	SyncID    uint8
	Group     netip.Addr
	Port      uint16
	TTL       uint8
	MaxLen    uint16
}

// Globals is the kernel-wide part of IPVS: version, timeouts and sync daemons.
type Globals interface {
	Info(ctx context.Context) (Info, error)
	Timeouts(ctx context.Context) (Timeouts, error)
	SetTimeouts(ctx context.Context, t Timeouts) error
	SyncDaemons(ctx context.Context) ([]SyncDaemon, error)
	StartSyncDaemon(ctx context.Context, d SyncDaemon) error
	StopSyncDaemon(ctx context.Context, s SyncState) error
}
