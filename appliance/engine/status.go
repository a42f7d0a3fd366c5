package engine

import (
	"slices"
	"time"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// Status is the snapshot the API serves. It is a value: callers get their own copy.
type Status struct {
	Ready    bool          `json:"ready"`
	Revision *RevisionInfo `json:"revision"` // nil: the store holds no configuration
	// ConfigHostname is system.hostname of the applied configuration.
	ConfigHostname string     `json:"config_hostname,omitempty"`
	IPVS           IPVSStatus `json:"ipvs"`
	LastPass       *PassInfo  `json:"last_pass"` // nil before the first pass
	Passes         int        `json:"passes"`
	// NICs are the configured interfaces after the last NIC pass (offloads, MTU,
	// link, what the NIC refused).
	NICs []NICStatus `json:"nics,omitempty"`
	// Sysctls are the sysctls lvsbox manages, each with its value and reason.
	Sysctls []SysctlStatus `json:"sysctls,omitempty"`
}

// RevisionInfo describes the applied configuration revision.
type RevisionInfo struct {
	Number  uint64    `json:"number"`
	Time    time.Time `json:"time"`
	Comment string    `json:"comment"`
}

// PassInfo describes the last reconcile pass.
type PassInfo struct {
	Time     time.Time `json:"time"`
	Duration string    `json:"duration"`
	Writes   int       `json:"writes"`
	Errors   []string  `json:"errors"`
}

// IPVSStatus is the IPVS table as last observed in the kernel.
type IPVSStatus struct {
	Available bool            `json:"available"`
	Error     string          `json:"error,omitempty"`
	Services  []ServiceStatus `json:"services"`
	// Globals are the timeouts and sync daemons as the kernel has them.
	Globals *GlobalsStatus `json:"globals,omitempty"`
	// Problems are the objects the last pass could not program, by config path.
	Problems []Problem `json:"problems,omitempty"`
	// StatsTime is when the counters were read (the last pass that read them).
	StatsTime *time.Time `json:"stats_time,omitempty"`
}

// ServiceStatus is one virtual service as programmed in the kernel.
type ServiceStatus struct {
	Name         string              `json:"name,omitempty"` // empty: not in the configuration
	Protocol     string              `json:"protocol,omitempty"`
	Address      string              `json:"address,omitempty"`
	Port         uint16              `json:"port,omitempty"`
	FWMark       uint32              `json:"fwmark,omitempty"`
	Scheduler    string              `json:"scheduler"`
	Flags        uint32              `json:"flags"`
	Timeout      uint32              `json:"timeout"`
	Destinations []DestinationStatus `json:"real_servers"`
	// Netmask is the persistence granularity (prefix length).
	Netmask uint8 `json:"netmask,omitempty"`
	// Stats are the kernel's counters and rates of the service.
	Stats *Stats `json:"stats,omitempty"`

	key ipvs.ServiceKey
}

// DestinationStatus is one real server as programmed in the kernel.
type DestinationStatus struct {
	Address        string `json:"address"`
	Port           uint16 `json:"port"`
	Forwarding     string `json:"forwarding"`
	Weight         int    `json:"weight"`
	UpperThreshold uint32 `json:"upper_threshold"`
	LowerThreshold uint32 `json:"lower_threshold"`
	ActiveConns    int    `json:"active_connections"`
	InactiveConns  int    `json:"inactive_connections"`
	PersistConns   int    `json:"persistent_connections"`
	TunnelType     string `json:"tunnel_type,omitempty"`
	TunnelPort     uint16 `json:"tunnel_port,omitempty"`
	Stats          *Stats `json:"stats,omitempty"`
	// DrainingUntil: removed from the configuration, weight 0 until then.
	DrainingUntil *time.Time `json:"draining_until,omitempty"`
}

// Stats are kernel counters since the object was created and the kernel's rate
// estimates (per second, over about 2 s). Out-direction counters move only for NAT.
type Stats struct {
	Connections    uint64 `json:"connections"`
	PacketsIn      uint64 `json:"packets_in"`
	PacketsOut     uint64 `json:"packets_out"`
	BytesIn        uint64 `json:"bytes_in"`
	BytesOut       uint64 `json:"bytes_out"`
	ConnectionRate uint64 `json:"connections_per_second"`
	PacketRateIn   uint64 `json:"packets_in_per_second"`
	PacketRateOut  uint64 `json:"packets_out_per_second"`
	ByteRateIn     uint64 `json:"bytes_in_per_second"`
	ByteRateOut    uint64 `json:"bytes_out_per_second"`
}

func statsOf(s ipvs.Stats) *Stats {
	return &Stats{Connections: s.Connections, PacketsIn: s.InPackets, PacketsOut: s.OutPackets, BytesIn: s.InBytes, BytesOut: s.OutBytes,
		ConnectionRate: s.ConnectionRate, PacketRateIn: s.InPacketRate, PacketRateOut: s.OutPacketRate, ByteRateIn: s.InByteRate, ByteRateOut: s.OutByteRate}
}

// clone deep-copies s so that readers never share slices with the engine.
func (s Status) clone() Status {
	out := s
	if s.Revision != nil {
		r := *s.Revision
		out.Revision = &r
	}
	if s.LastPass != nil {
		p := *s.LastPass
		p.Errors = slices.Clone(s.LastPass.Errors)
		out.LastPass = &p
	}
	out.IPVS.Services = slices.Clone(s.IPVS.Services)
	for i := range out.IPVS.Services {
		out.IPVS.Services[i].Destinations = slices.Clone(s.IPVS.Services[i].Destinations)
	}
	return out
}

// serviceStatus converts an observed table, sorted by key, naming configured services.
func serviceStatus(obs []ipvs.ServiceState, names map[ipvs.ServiceKey]string) []ServiceStatus {
	obs = slices.SortedFunc(slices.Values(obs), func(a, b ipvs.ServiceState) int { return a.Key.Compare(b.Key) })
	out := make([]ServiceStatus, 0, len(obs))
	for _, s := range obs {
		ss := ServiceStatus{
			Name: names[s.Key], FWMark: s.Key.FWMark,
			Scheduler: s.Scheduler, Flags: s.Flags, Timeout: s.Timeout, Netmask: s.Netmask, Stats: statsOf(s.Stats),
			key:          s.Key,
			Destinations: make([]DestinationStatus, 0, len(s.Destinations)),
		}
		if s.Key.FWMark == 0 {
			ss.Protocol, ss.Address, ss.Port = s.Key.Protocol.String(), s.Key.Addr.String(), s.Key.Port
		}
		dsts := slices.SortedFunc(slices.Values(s.Destinations), func(a, b ipvs.Destination) int { return a.Key.Compare(b.Key) })
		for _, d := range dsts {
			ss.Destinations = append(ss.Destinations, DestinationStatus{
				Address: d.Key.Addr.String(), Port: d.Key.Port, Forwarding: d.Forwarding.String(),
				Weight: d.Weight, UpperThreshold: d.UpperThreshold, LowerThreshold: d.LowerThreshold,
				ActiveConns: d.ActiveConns, InactiveConns: d.InactiveConns, PersistConns: d.PersistConns, Stats: statsOf(d.Stats),
			})
			if d.Forwarding == ipvs.Tunnel {
				last := &ss.Destinations[len(ss.Destinations)-1]
				last.TunnelType, last.TunnelPort = d.TunnelType.String(), d.TunnelPort
			}
		}
		out = append(out, ss)
	}
	return out
}
