package node

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet"
)

// ReasonPeer is the per-instance drop reason for a unicast instance hearing
// an advert from an address that is not one of its peers.
const ReasonPeer vrrp.Reason = "peer"

// addrWorker is the part of vip.Worker the protocol goroutine uses; its
// methods return at once.
type addrWorker interface {
	SetMaster(bool)
	SetSpec(vip.Spec) error
	Announce()
	Status() vip.Status
}

// member is one instance inside a runner; only the runner's goroutine
// touches it.
type member struct {
	idx    int
	cfg    InstanceConfig
	worker addrWorker

	m       *vrrp.Machine
	vcfg    vrrp.Config
	primary netip.Addr
	started bool
	// startedOnce: the first start happened (InitialMaster applies to it only).
	startedOnce bool
	base        vrrp.Stats // counters of machines replaced after a source address change

	conn     vrnet.Conn
	ownFault string // from the facts
	fault    string // ownFault or the sync group's
	delta    int

	masterAddr netip.Addr
	since      time.Time
	dropped    map[string]uint64
	warnings   map[string]uint64
	sendErrs   uint64
	rechecks   uint64 // takeovers put off for unread adverts
	history    []TransitionRecord
	entered    map[string]uint64 // transitions by state entered
}

// newMember prepares an instance; its machine has no source address until
// the first facts arrive.
func newMember(idx int, cfg InstanceConfig, w addrWorker) (*member, error) {
	mb := &member{idx: idx, cfg: cfg, worker: w, dropped: map[string]uint64{}, warnings: map[string]uint64{}, entered: map[string]uint64{}}
	if err := mb.rebuild(netip.Addr{}); err != nil {
		return nil, fmt.Errorf("vrrp instance %q: %w", cfg.Name, err)
	}
	return mb, nil
}

// rebuild replaces the machine (new source address); the old one must be in
// Initialize or never started.
func (mb *member) rebuild(primary netip.Addr) error {
	vc := mb.cfg.VRRP(primary)
	m, err := vrrp.New(vc)
	if err != nil {
		return err
	}
	if mb.m != nil {
		mb.base = addStats(mb.base, mb.m.Stats())
	}
	mb.m, mb.vcfg, mb.primary, mb.started = m, m.Config(), primary, false
	return nil
}

func (mb *member) record(tr vrrp.Transition) TransitionRecord {
	r := TransitionRecord{At: tr.At, From: tr.From.String(), To: tr.To.String(), Reason: string(tr.Reason)}
	if len(mb.history) == historyLen {
		mb.history = slices.Delete(mb.history, 0, 1)
	}
	mb.history = append(mb.history, r)
	mb.since = tr.At
	mb.entered[r.To]++
	return r
}

// due reports whether the machine's timer has run out.
func (mb *member) due(now time.Time) bool {
	d, ok := mb.m.Deadline()
	return ok && !now.Before(d)
}

func (mb *member) status(group string, held bool) InstanceStatus {
	s := addStats(mb.base, mb.m.Stats())
	ws := mb.worker.Status()
	st := InstanceStatus{
		Name: mb.cfg.Name, SyncGroup: group, Interface: mb.cfg.Interface, Family: mb.cfg.Family().String(),
		Version: mb.cfg.Version, VRID: mb.cfg.VRID, State: mb.m.State().String(), Fault: mb.fault,
		HeldBySync: held, BasePriority: mb.cfg.Priority, Priority: mb.m.Priority(),
		PrimaryAddr: mb.primary, MasterAddr: mb.masterAddr, AdvertInterval: mb.cfg.AdvertInterval,
		MasterInterval: mb.m.MasterAdverInterval(), VIPs: slices.Clone(mb.cfg.VIPs),
		VIPsHeld: ws.Master && ws.Applied, AddrError: ws.Err, Since: mb.since,
		Counters: Counters{
			AdvertsSent: s.AdvertsSent, AdvertsReceived: s.AdvertsReceived,
			PriorityZeroSent: s.PriorityZeroSent, PriorityZeroReceived: s.PriorityZeroReceived,
			BecameMaster: s.BecameMaster, DualMasterEpisodes: s.DualMasterEpisodes,
			LowerDiscarded: s.LowerDiscarded, PreemptHeld: s.PreemptHeld, OwnerIgnored: s.OwnerIgnored,
			Dropped: maps.Clone(mb.dropped), Warnings: maps.Clone(mb.warnings),
			SendErrors: mb.sendErrs, TakeoverRechecks: mb.rechecks, Announcements: ws.Announcements, Transitions: maps.Clone(mb.entered),
		},
		Transitions: slices.Clone(mb.history),
	}
	if mb.fault == "" && st.State == vrrp.StateFault.String() {
		st.Fault = "fault"
	}
	return st
}
