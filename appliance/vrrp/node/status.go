package node

import (
	"net/netip"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
)

// historyLen is how many transitions each instance remembers.
const historyLen = 64

// TransitionRecord is one state change of an instance.
type TransitionRecord struct {
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// Event is a transition for the event stream.
type Event struct {
	Instance  string           `json:"instance"`
	SyncGroup string           `json:"sync_group,omitempty"`
	VRID      uint8            `json:"vrid"`
	Interface string           `json:"interface"`
	Change    TransitionRecord `json:"change"`
}

// Counters are an instance's counters since the manager started.
type Counters struct {
	AdvertsSent          uint64            `json:"adverts_sent"`
	AdvertsReceived      uint64            `json:"adverts_received"` // accepted by every check
	PriorityZeroSent     uint64            `json:"priority_zero_sent"`
	PriorityZeroReceived uint64            `json:"priority_zero_received"`
	BecameMaster         uint64            `json:"became_master"`
	DualMasterEpisodes   uint64            `json:"dual_master_episodes"`
	LowerDiscarded       uint64            `json:"lower_priority_discarded"`
	PreemptHeld          uint64            `json:"preempt_held"`
	OwnerIgnored         uint64            `json:"owner_ignored"`
	Dropped              map[string]uint64 `json:"rx_dropped"`  // per-instance receive-check reasons (+ "peer")
	Warnings             map[string]uint64 `json:"rx_warnings"` // accepted with a warning (addr-list-owner)
	SendErrors           uint64            `json:"send_errors"`
	TakeoverRechecks     uint64            `json:"takeover_rechecks"` // takeovers put off for adverts not read yet (starved process)
	Announcements        uint64            `json:"announcements"`     // GARP/NA rounds
	Transitions          map[string]uint64 `json:"transitions"`       // by state entered
}

// InstanceStatus is the observable state of one instance.
type InstanceStatus struct {
	Name           string             `json:"name"`
	SyncGroup      string             `json:"sync_group,omitempty"`
	Interface      string             `json:"interface"`
	Family         string             `json:"family"`
	Version        uint8              `json:"version"`
	VRID           uint8              `json:"vrid"`
	State          string             `json:"state"`
	Fault          string             `json:"fault,omitempty"` // why in FAULT
	HeldBySync     bool               `json:"held_by_sync_group,omitempty"`
	BasePriority   uint8              `json:"base_priority"`
	Priority       uint8              `json:"priority"` // effective
	PrimaryAddr    netip.Addr         `json:"primary_address"`
	MasterAddr     netip.Addr         `json:"master_address"` // us when master, the current master's source when backup
	AdvertInterval time.Duration      `json:"advert_interval_ns"`
	MasterInterval time.Duration      `json:"master_advert_interval_ns"`
	VIPs           []netip.Prefix     `json:"vips"`
	VIPsHeld       bool               `json:"vips_held"`
	AddrError      string             `json:"address_error,omitempty"`
	Since          time.Time          `json:"since"`
	Counters       Counters           `json:"counters"`
	Transitions    []TransitionRecord `json:"transitions"` // oldest first, at most 64
}

func addStats(a, b vrrp.Stats) vrrp.Stats {
	return vrrp.Stats{
		AdvertsReceived:      a.AdvertsReceived + b.AdvertsReceived,
		AdvertsIgnored:       a.AdvertsIgnored + b.AdvertsIgnored,
		OwnerIgnored:         a.OwnerIgnored + b.OwnerIgnored,
		PriorityZeroReceived: a.PriorityZeroReceived + b.PriorityZeroReceived,
		PriorityZeroSent:     a.PriorityZeroSent + b.PriorityZeroSent,
		AdvertsSent:          a.AdvertsSent + b.AdvertsSent,
		LowerDiscarded:       a.LowerDiscarded + b.LowerDiscarded,
		PreemptHeld:          a.PreemptHeld + b.PreemptHeld,
		BecameMaster:         a.BecameMaster + b.BecameMaster,
		DualMasterEpisodes:   a.DualMasterEpisodes + b.DualMasterEpisodes,
	}
}
