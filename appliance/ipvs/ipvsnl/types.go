package ipvsnl

import (
	"fmt"
	"net/netip"
)

// Service is a virtual service as the kernel sees it. A service is keyed by
// Family+Protocol+Addr+Port, or by Family+FWMark when FWMark is non-zero.
type Service struct {
	Family   uint16 // AFInet or AFInet6
	Protocol uint16 // IP protocol number; 0 for fwmark services
	Addr     netip.Addr
	Port     uint16
	FWMark   uint32

	Scheduler string
	PE        string // persistence engine ("sip"), empty for none
	Flags     uint32 // IP_VS_SVC_F_*; replies include SvcFlagHashed
	Timeout   uint32 // persistence timeout, seconds
	// Netmask is the persistence granularity in the kernel's terms: for IPv4 the mask
	// as a number (0xffffff00 for /24), for IPv6 the prefix length (1-128).
	Netmask uint32

	Stats Stats // replies only
}

// IsFWMark reports whether the service is keyed by a firewall mark.
func (s Service) IsFWMark() bool { return s.FWMark != 0 }

// Key returns the service with only its identifying fields set.
func (s Service) Key() Service {
	if s.FWMark != 0 {
		return Service{Family: s.Family, FWMark: s.FWMark}
	}
	return Service{Family: s.Family, Protocol: s.Protocol, Addr: s.Addr, Port: s.Port}
}

func (s Service) String() string {
	if s.FWMark != 0 {
		return fmt.Sprintf("fwmark %d (%s)", s.FWMark, afName(s.Family))
	}
	return fmt.Sprintf("%s %s", protoName(s.Protocol), netip.AddrPortFrom(s.Addr, s.Port))
}

// Destination is a real server of a service as the kernel sees it.
type Destination struct {
	// Family is the family of Addr; 0 means "the service's" when writing. It differs
	// from the service's only for tunnelled destinations (mixed-family services).
	Family     uint16
	Addr       netip.Addr
	Port       uint16
	FwdMethod  uint32 // FwdMasq, FwdDirect, FwdTunnel (FwdLocalNode is set by the kernel)
	Weight     int32
	UThreshold uint32
	LThreshold uint32
	TunType    uint8  // TunIPIP, TunGUE, TunGRE (tunnel forwarding only)
	TunPort    uint16 // GUE destination port
	TunFlags   uint16 // TunFlagCsum, TunFlagRemCsum

	// Replies only.
	ActiveConns  uint32
	InactConns   uint32
	PersistConns uint32
	Stats        Stats
}

func (d Destination) String() string { return netip.AddrPortFrom(d.Addr, d.Port).String() }

// Stats are the kernel's counters and rate estimates of a service or destination.
// Rates are per second, estimated by the kernel over a 2 s window.
type Stats struct {
	Conns    uint64 // connections scheduled
	InPkts   uint64 // packets client -> server
	OutPkts  uint64 // packets server -> client (NAT only)
	InBytes  uint64
	OutBytes uint64
	CPS      uint64
	InPPS    uint64
	OutPPS   uint64
	InBPS    uint64
	OutBPS   uint64
}

// Info is the reply of GET_INFO.
type Info struct {
	Version     uint32 // IP_VS_VERSION_CODE, e.g. 0x010201
	ConnTabSize uint32 // size of the connection hash table
}

// VersionString formats Version as the kernel does ("1.2.1").
func (i Info) VersionString() string {
	return fmt.Sprintf("%d.%d.%d", i.Version>>16&0xff, i.Version>>8&0xff, i.Version&0xff)
}

// Timeouts are the IPVS connection timeouts in seconds (ipvsadm --set). Zero leaves
// a timeout unchanged when writing.
type Timeouts struct {
	TCP    uint32
	TCPFin uint32
	UDP    uint32
}

// Daemon is a connection-sync daemon.
type Daemon struct {
	State     uint32 // StateMaster or StateBackup
	Interface string // multicast interface
	SyncID    uint32 // 0-255
	// Optional (0 / invalid: the kernel's default).
	MaxLen uint16     // UDP payload size
	Group  netip.Addr // multicast group, IPv4 or IPv6 (default 224.0.0.81)
	Port   uint16     // multicast port (default 8848)
	TTL    uint8      // multicast TTL (default 1)
}

// StateName names a daemon state.
func StateName(state uint32) string {
	switch state {
	case StateMaster:
		return "master"
	case StateBackup:
		return "backup"
	}
	return fmt.Sprintf("state %d", state)
}

// Request is one write for Apply: Cmd is CmdNewService, CmdSetService,
// CmdDelService, CmdNewDest, CmdSetDest or CmdDelDest. Service is the full service
// for New/SetService and its key otherwise; Dest is used by destination commands.
type Request struct {
	Cmd     Command
	Service Service
	Dest    Destination
}

func (r Request) String() string {
	switch r.Cmd {
	case CmdNewDest, CmdSetDest, CmdDelDest:
		return fmt.Sprintf("%s %s of %s", r.Cmd, r.Dest, r.Service)
	}
	return fmt.Sprintf("%s %s", r.Cmd, r.Service)
}

func afName(af uint16) string {
	switch af {
	case AFInet:
		return "ipv4"
	case AFInet6:
		return "ipv6"
	}
	return fmt.Sprintf("af%d", af)
}

func protoName(p uint16) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 132:
		return "sctp"
	}
	return fmt.Sprintf("proto%d", p)
}

// AFOf returns the address family of a.
func AFOf(a netip.Addr) uint16 {
	if a.Is4() {
		return AFInet
	}
	return AFInet6
}
