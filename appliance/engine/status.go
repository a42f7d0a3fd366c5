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
			Scheduler: s.Scheduler, Flags: s.Flags, Timeout: s.Timeout,
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
				ActiveConns: d.ActiveConns, InactiveConns: d.InactiveConns,
			})
		}
		out = append(out, ss)
	}
	return out
}
