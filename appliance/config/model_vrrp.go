package config

import "net/netip"

// VRRPInstance is one virtual router (RFC 5798 v3 or RFC 3768 v2) on one interface.
type VRRPInstance struct {
	Name      string `json:"name"`
	Interface string `json:"interface"`
	VRID      int    `json:"vrid"`
	// Version 0 means DefaultVRRPVersion.
	Version int `json:"version,omitempty"`
	// Priority 0 means DefaultPriority; 255 is reserved for the address owner.
	Priority int `json:"priority,omitempty"`
	// AdvertInterval: v2 whole seconds 1-255, v3 multiples of 10ms from 10ms to 40.95s.
	AdvertInterval Duration `json:"advert_interval,omitempty"`
	// Preempt nil means true.
	Preempt      *bool    `json:"preempt,omitempty"`
	PreemptDelay Duration `json:"preempt_delay,omitempty"`
	Accept       bool     `json:"accept,omitempty"`
	// InitialState "master" claims mastership at start instead of waiting for the
	// master-down timer (keepalived's `state MASTER`); "backup" is the default.
	InitialState InitialState `json:"initial_state,omitempty"`
	// Unicast sends adverts to UnicastPeers instead of the VRRP multicast group.
	Unicast          bool             `json:"unicast,omitempty"`
	UnicastSource    netip.Addr       `json:"unicast_source,omitzero"`
	UnicastPeers     []netip.Addr     `json:"unicast_peers,omitempty"`
	VirtualAddresses []VirtualAddress `json:"virtual_addresses"`
	VirtualRoutes    []Route          `json:"virtual_routes,omitempty"`
	TrackInterfaces  []TrackInterface `json:"track_interfaces,omitempty"`
	TrackServices    []TrackService   `json:"track_services,omitempty"`
	TrackScripts     []TrackScript    `json:"track_scripts,omitempty"`
	// AuthPass is the v2 simple-password authentication (at most 8 characters).
	AuthPass string `json:"auth_pass,omitempty"`
	// VMAC uses the virtual router MAC 00:00:5e:00:01:VRID (v6: 00:00:5e:00:02:VRID)
	// on a macvlan device.
	VMAC bool `json:"vmac,omitempty"`
	GARP GARP `json:"garp,omitzero"`
}

// InitialState is the state a VRRP instance starts in.
type InitialState string

// Initial states.
const (
	InitialBackup InitialState = "backup"
	InitialMaster InitialState = "master"
)

// Preempts reports whether the instance preempts a lower-priority master.
func (v VRRPInstance) Preempts() bool { return v.Preempt == nil || *v.Preempt }

// VirtualAddress is an address the master of an instance holds.
type VirtualAddress struct {
	Address netip.Prefix `json:"address"`
	// Device empty means the instance's interface.
	Device string `json:"device,omitempty"`
}

// TrackInterface ties an instance to an interface's link state.
type TrackInterface struct {
	Interface string `json:"interface"`
	// Weight 0 puts the instance in FAULT while the link is down; otherwise a
	// positive weight is added to the priority while the link is up and a negative
	// one is added (subtracted) while it is down.
	Weight int `json:"weight,omitempty"`
}

// TrackService ties an instance to a virtual service's health (its quorum).
type TrackService struct {
	Service string `json:"service"`
	// Weight 0 puts the instance in FAULT while the service is down (quorum lost);
	// otherwise as for TrackInterface.
	Weight int `json:"weight,omitempty"`
}

// TrackScript ties an instance to the result of a VRRP script.
type TrackScript struct {
	Script string `json:"script"`
	// Weight 0 puts the instance in FAULT while the script fails; otherwise as for
	// TrackInterface.
	Weight int `json:"weight,omitempty"`
}

// VRRPScript is a command run periodically whose exit status instances can track
// (keepalived's vrrp_script): exit 0 = success.
type VRRPScript struct {
	Name     string   `json:"name"`
	Path     string   `json:"path"`
	Args     []string `json:"args,omitempty"`
	Interval Duration `json:"interval,omitempty"`
	// Timeout 0 means the interval.
	Timeout Duration `json:"timeout,omitempty"`
	// Rise/Fall: results in a row before the state changes; 0 means 1.
	Rise int `json:"rise,omitempty"`
	Fall int `json:"fall,omitempty"`
}

// GARP is how gratuitous ARPs (IPv4) / unsolicited neighbour advertisements (IPv6)
// are sent on becoming master.
type GARP struct {
	// Count adverts are sent Interval apart; 0 means DefaultGARPCount.
	Count    int      `json:"count,omitempty"`
	Interval Duration `json:"interval,omitempty"`
	// Refresh repeats one GARP this often while master; 0 = never.
	Refresh Duration `json:"refresh,omitempty"`
}

// VRRPSyncGroup is a set of instances that change state together.
type VRRPSyncGroup struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// VRRP defaults.
const (
	DefaultVRRPVersion    = 3
	DefaultPriority       = 100
	DefaultAdvertInterval = Duration(1e9)
	DefaultInitialState   = InitialBackup
	DefaultGARPCount      = 5
	DefaultGARPInterval   = Duration(100e6)
	DefaultScriptInterval = Duration(1e9)
	DefaultScriptRise     = 1
	DefaultScriptFall     = 1
	PriorityOwner         = 255
)
