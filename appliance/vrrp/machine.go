package vrrp

import (
	"fmt"
	"slices"
	"time"
)

// State is a VRRP instance state.
type State uint8

// States. Fault is keepalived's: a tracked interface is down.
const (
	StateInitialize State = iota
	StateBackup
	StateMaster
	StateFault
)

// String returns the RFC name.
func (s State) String() string {
	switch s {
	case StateInitialize:
		return "Initialize"
	case StateBackup:
		return "Backup"
	case StateMaster:
		return "Master"
	case StateFault:
		return "Fault"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// ActionKind is what the caller must do.
type ActionKind uint8

// Actions.
const (
	// ActionSendAdvert: send Config.Advertisement(Action.Priority) to the group.
	ActionSendAdvert ActionKind = iota + 1
	// ActionBecomeMaster: add the virtual addresses (and the virtual MAC if
	// used), then send gratuitous ARPs / unsolicited neighbour adverts.
	// Action.Accept says whether to accept traffic to them (accept mode).
	ActionBecomeMaster
	// ActionBecomeBackup: make sure the virtual addresses are absent.
	// Action.State is the state entered: Backup, Fault or Initialize.
	ActionBecomeBackup
)

// String names the action.
func (k ActionKind) String() string {
	switch k {
	case ActionSendAdvert:
		return "SendAdvert"
	case ActionBecomeMaster:
		return "BecomeMaster"
	case ActionBecomeBackup:
		return "BecomeBackup"
	}
	return fmt.Sprintf("ActionKind(%d)", uint8(k))
}

// Action is one thing the caller must do, in order.
type Action struct {
	Kind     ActionKind
	Priority uint8 // SendAdvert: the priority to advertise (0 when stopping)
	State    State // BecomeBackup: the state entered
	Accept   bool  // BecomeMaster: accept mode (always true for the owner)
}

// String renders the action for logs and tests.
func (a Action) String() string {
	switch a.Kind {
	case ActionSendAdvert:
		return fmt.Sprintf("SendAdvert(%d)", a.Priority)
	case ActionBecomeBackup:
		return fmt.Sprintf("BecomeBackup(%v)", a.State)
	case ActionBecomeMaster:
		return fmt.Sprintf("BecomeMaster(accept=%t)", a.Accept)
	}
	return a.Kind.String()
}

// TransitionReason says why a state changed.
type TransitionReason string

// Transition reasons.
const (
	ReasonStartup          TransitionReason = "startup"           // Initialize -> Backup
	ReasonAddressOwner     TransitionReason = "address-owner"     // -> Master at once (priority 255)
	ReasonMasterDown       TransitionReason = "master-down"       // Backup -> Master: no advert for Master_Down_Interval
	ReasonPreempt          TransitionReason = "preempt"           // Backup -> Master: lower-priority master's adverts discarded
	ReasonMasterReleased   TransitionReason = "master-released"   // Backup -> Master: Skew_Time after a priority 0 advert
	ReasonHigherPriority   TransitionReason = "higher-priority"   // Master -> Backup
	ReasonHigherAddress    TransitionReason = "higher-address"    // Master -> Backup: equal priority, greater primary address
	ReasonShutdown         TransitionReason = "shutdown"          // -> Initialize
	ReasonFault            TransitionReason = "fault"             // -> Fault
	ReasonFaultCleared     TransitionReason = "fault-cleared"     // Fault -> Backup
	ReasonPriorityRestored TransitionReason = "priority-restored" // Backup -> Master: tracking gave back priority 255
	ReasonSyncGroup        TransitionReason = "sync-group"        // Master -> Backup: Yield, another sync group member lost mastership
	ReasonInitialMaster    TransitionReason = "initial-master"    // Initialize -> Master: StartMaster (keepalived's state MASTER)
)

// Transition records one state change.
type Transition struct {
	At       time.Time
	From, To State
	Reason   TransitionReason
}

// Output is what one input produced: actions to perform in order, and the
// state changes that happened.
type Output struct {
	Actions     []Action
	Transitions []Transition
}

// Stats are the machine's counters.
type Stats struct {
	AdvertsReceived      uint64 // adverts fed to Receive while Backup or Master
	AdvertsIgnored       uint64 // adverts fed while Initialize or Fault, or from our own address
	OwnerIgnored         uint64 // adverts ignored because we own the addresses (priority 255)
	PriorityZeroReceived uint64
	PriorityZeroSent     uint64
	AdvertsSent          uint64 // SendAdvert actions emitted
	LowerDiscarded       uint64 // Backup: lower-priority adverts discarded (preempting)
	PreemptHeld          uint64 // Backup: lower-priority adverts accepted only because of the preempt delay
	BecameMaster         uint64
	DualMasterEpisodes   uint64 // Master: episodes of lower-priority adverts answered at once
}

// Machine is the RFC 5798 state machine of one instance. It never reads the
// clock: every input carries now, and Deadline tells the caller when to call
// Tick. It is not safe for concurrent use.
type Machine struct {
	cfg      Config
	priority uint8 // effective priority
	state    State
	fault    bool

	masterInterval time.Duration // Master_Adver_Interval
	deadline       time.Time     // Adver_Timer (Master) or Master_Down_Timer (Backup)
	downCause      TransitionReason
	preemptFrom    time.Time // preemption allowed from this time
	lastLower      time.Time // Master: last lower-priority advert (dual-master episode)
	stats          Stats
}

// New validates cfg and returns a machine in Initialize.
func New(cfg Config) (*Machine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vrrp: instance vrid %d: %w", cfg.VRID, err)
	}
	cfg.VIPs = slices.Clone(cfg.VIPs)
	return &Machine{cfg: cfg, priority: cfg.Priority, masterInterval: cfg.AdvertInterval}, nil
}

// Config returns the instance configuration.
func (m *Machine) Config() Config {
	c := m.cfg
	c.VIPs = slices.Clone(c.VIPs)
	return c
}

// State is the current state.
func (m *Machine) State() State { return m.state }

// Priority is the effective priority (base plus tracking).
func (m *Machine) Priority() uint8 { return m.priority }

// MasterAdverInterval is Master_Adver_Interval (v3: learned from the master).
func (m *Machine) MasterAdverInterval() time.Duration { return m.masterInterval }

// SkewTime is the current Skew_Time.
func (m *Machine) SkewTime() time.Duration {
	return SkewTime(m.cfg.Version, m.priority, m.masterInterval)
}

// MasterDownInterval is the current Master_Down_Interval.
func (m *Machine) MasterDownInterval() time.Duration {
	return MasterDownInterval(m.cfg.Version, m.priority, m.masterInterval)
}

// Deadline is when Tick must next be called; ok is false when no timer runs
// (Initialize, Fault).
func (m *Machine) Deadline() (t time.Time, ok bool) {
	return m.deadline, !m.deadline.IsZero()
}

// Stats returns the counters.
func (m *Machine) Stats() Stats { return m.stats }

// Start is the Startup event: Initialize -> Master for the owner, else ->
// Backup (or -> Fault if a fault is set). It does nothing in other states.
func (m *Machine) Start(now time.Time) Output {
	var o Output
	if m.state != StateInitialize {
		return o
	}
	if m.fault {
		m.enterFault(&o, now)
		return o
	}
	m.enterRunning(&o, now, ReasonStartup)
	return o
}

// StartMaster is Startup for keepalived's initial state MASTER: Initialize
// -> Master at once, sending an advert; a better master heard afterwards
// makes it step down by the normal receive rules. With a fault set it goes
// to Fault; the owner goes Master as with Start. Leaving Fault later goes
// to Backup as usual. It does nothing in other states.
func (m *Machine) StartMaster(now time.Time) Output {
	var o Output
	if m.state != StateInitialize {
		return o
	}
	if m.fault || m.priority == PriorityOwner {
		return m.Start(now)
	}
	m.masterInterval = m.cfg.AdvertInterval
	m.preemptFrom = now.Add(m.cfg.PreemptDelay)
	m.enterMaster(&o, now, ReasonInitialMaster)
	return o
}

// Reconfigure applies a new configuration live, without a transition: the
// virtual addresses, the advertisement interval, preempt settings and
// accept mode may change, and the base priority unless it is or becomes the
// owner's (SetPriority applies the effective one); the version, VRID,
// family, primary address and authentication may not (the caller restarts
// the instance for those).
// A master's next advert is due within the new interval; a v3 backup keeps
// the Master_Adver_Interval it learned (it learns the new one from the
// master's adverts), a v2 backup takes the new interval, which a v2 master
// must share.
func (m *Machine) Reconfigure(now time.Time, c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("vrrp: instance vrid %d: %w", m.cfg.VRID, err)
	}
	o := m.cfg
	owner := c.Priority == PriorityOwner || o.Priority == PriorityOwner
	if c.Version != o.Version || c.VRID != o.VRID || owner && c.Priority != o.Priority || c.PrimaryAddr != o.PrimaryAddr ||
		c.AuthType != o.AuthType || c.AuthPass != o.AuthPass || c.Family() != o.Family() {
		return fmt.Errorf("vrrp: instance vrid %d: version, vrid, owner priority, family, primary address or authentication changed: restart needed", o.VRID)
	}
	c.VIPs = slices.Clone(c.VIPs)
	m.cfg = c
	if c.AdvertInterval == o.AdvertInterval {
		return nil
	}
	switch {
	case m.state == StateMaster:
		m.masterInterval = c.AdvertInterval
		if next := now.Add(c.AdvertInterval); m.deadline.After(next) {
			m.deadline = next
		}
	case m.cfg.Version == Version2 || m.state != StateBackup:
		m.masterInterval = c.AdvertInterval
	}
	return nil
}

// Shutdown is the Shutdown event: a master sends priority 0 and releases the
// addresses; every state goes to Initialize.
func (m *Machine) Shutdown(now time.Time) Output {
	var o Output
	switch m.state {
	case StateInitialize:
		return o
	case StateMaster:
		m.send(&o, PriorityStop)
		o.Actions = append(o.Actions, Action{Kind: ActionBecomeBackup, State: StateInitialize})
	}
	m.transition(&o, now, StateInitialize, ReasonShutdown)
	m.deadline = time.Time{}
	return o
}

// Tick services the timer if its deadline has passed: Master sends an advert
// (Adver_Timer), Backup becomes Master (Master_Down_Timer).
func (m *Machine) Tick(now time.Time) Output {
	var o Output
	if m.deadline.IsZero() || now.Before(m.deadline) {
		return o
	}
	switch m.state {
	case StateMaster:
		m.send(&o, m.priority)
		next := m.deadline.Add(m.cfg.AdvertInterval)
		if !next.After(now) {
			next = now.Add(m.cfg.AdvertInterval)
		}
		m.deadline = next
	case StateBackup:
		m.enterMaster(&o, now, m.downCause)
	}
	return o
}

// Receive feeds an advert that passed Config.Check (Verdict.Advert). It is
// ignored outside Backup and Master, when it comes from our own primary
// address, and while our effective priority is 255 (RFC 5798 7.1).
func (m *Machine) Receive(now time.Time, a Advert) Output {
	var o Output
	if (m.state != StateBackup && m.state != StateMaster) ||
		(m.cfg.PrimaryAddr.IsValid() && a.Src.Unmap() == m.cfg.PrimaryAddr.Unmap()) {
		m.stats.AdvertsIgnored++
		return o
	}
	if m.priority == PriorityOwner {
		// RFC 5798 7.1: the address owner discards adverts. The effective
		// priority decides, so an owner lowered by tracking takes part.
		m.stats.OwnerIgnored++
		return o
	}
	m.stats.AdvertsReceived++
	if a.Priority == PriorityStop {
		m.stats.PriorityZeroReceived++
	}
	if m.state == StateBackup {
		m.receiveBackup(now, a)
		return o
	}
	m.receiveMaster(&o, now, a)
	return o
}

func (m *Machine) receiveBackup(now time.Time, a Advert) {
	switch {
	case a.Priority == PriorityStop:
		m.deadline = now.Add(m.SkewTime())
		m.downCause = ReasonMasterReleased
	case m.cfg.NoPreempt || a.Priority >= m.priority || now.Before(m.preemptFrom):
		if !m.cfg.NoPreempt && a.Priority < m.priority {
			m.stats.PreemptHeld++
		}
		m.learn(a)
		m.deadline = now.Add(m.MasterDownInterval())
		m.downCause = ReasonMasterDown
	default:
		// Preempt: discard, so Master_Down_Timer runs out.
		m.stats.LowerDiscarded++
		m.downCause = ReasonPreempt
	}
}

func (m *Machine) receiveMaster(o *Output, now time.Time, a Advert) {
	switch {
	case a.Priority == PriorityStop:
		m.send(o, m.priority)
		m.deadline = now.Add(m.cfg.AdvertInterval)
	case a.Priority > m.priority:
		m.enterBackup(o, now, a, ReasonHigherPriority)
	case a.Priority == m.priority && a.Src.Unmap().Compare(m.cfg.PrimaryAddr.Unmap()) > 0:
		m.enterBackup(o, now, a, ReasonHigherAddress)
	default:
		// Another master with a lower priority (or equal priority and a
		// smaller address): answer at once so it steps down now instead of
		// at our next Adver_Timer (keepalived does the same).
		if m.lastLower.IsZero() || now.Sub(m.lastLower) > m.MasterDownInterval() {
			m.stats.DualMasterEpisodes++
		}
		m.lastLower = now
		m.send(o, m.priority)
		m.deadline = now.Add(m.cfg.AdvertInterval)
	}
}

// Yield makes a master step down to Backup although no better advert came:
// a sync group member follows another member that lost mastership. It sends
// priority 0 (so the peer takes over after its Skew_Time), releases the
// addresses and arms Master_Down_Timer; a backup's preempt delay is not
// restarted. It does nothing in other states.
func (m *Machine) Yield(now time.Time) Output {
	var o Output
	if m.state != StateMaster {
		return o
	}
	m.send(&o, PriorityStop)
	m.masterInterval = m.cfg.AdvertInterval
	m.deadline = now.Add(m.MasterDownInterval())
	m.downCause = ReasonMasterDown
	o.Actions = append(o.Actions, Action{Kind: ActionBecomeBackup, State: StateBackup})
	m.transition(&o, now, StateBackup, ReasonSyncGroup)
	return o
}

// SetPriority applies a new effective priority (see EffectivePriority) at
// once; 0 is taken as 1. A master advertises the new priority immediately; a
// backup uses it for the next Skew_Time and preemption decision, and takes
// over at once if it became the owner (255).
func (m *Machine) SetPriority(now time.Time, p uint8) Output {
	var o Output
	p = max(p, 1)
	if p == m.priority {
		return o
	}
	m.priority = p
	switch m.state {
	case StateMaster:
		m.send(&o, p)
		m.deadline = now.Add(m.cfg.AdvertInterval)
	case StateBackup:
		if p == PriorityOwner {
			m.enterMaster(&o, now, ReasonPriorityRestored)
		}
	}
	return o
}

// SetFault sets or clears the fault condition (a tracked interface is down).
// Entering Fault releases the addresses (a master first sends priority 0);
// leaving it restarts like Startup, including the preempt delay.
func (m *Machine) SetFault(now time.Time, fault bool) Output {
	var o Output
	if fault == m.fault {
		return o
	}
	m.fault = fault
	switch {
	case fault && (m.state == StateBackup || m.state == StateMaster):
		if m.state == StateMaster {
			m.send(&o, PriorityStop)
		}
		m.enterFault(&o, now)
	case !fault && m.state == StateFault:
		m.enterRunning(&o, now, ReasonFaultCleared)
	}
	return o
}

// enterRunning is the Startup logic, also used when a fault clears.
func (m *Machine) enterRunning(o *Output, now time.Time, reason TransitionReason) {
	if m.priority == PriorityOwner {
		m.enterMaster(o, now, ReasonAddressOwner)
		return
	}
	m.masterInterval = m.cfg.AdvertInterval
	m.preemptFrom = now.Add(m.cfg.PreemptDelay)
	m.deadline = now.Add(m.MasterDownInterval())
	m.downCause = ReasonMasterDown
	o.Actions = append(o.Actions, Action{Kind: ActionBecomeBackup, State: StateBackup})
	m.transition(o, now, StateBackup, reason)
}

// enterMaster sends an advert, takes the addresses and arms Adver_Timer.
func (m *Machine) enterMaster(o *Output, now time.Time, reason TransitionReason) {
	m.send(o, m.priority)
	o.Actions = append(o.Actions, Action{
		Kind:   ActionBecomeMaster,
		Accept: m.cfg.AcceptMode || m.cfg.Priority == PriorityOwner,
	})
	m.deadline = now.Add(m.cfg.AdvertInterval)
	m.lastLower = time.Time{}
	if reason == ReasonPreempt {
		// The lower master we preempted keeps advertising until it hears
		// us: an expected overlap, not a dual-master episode.
		m.lastLower = now
	}
	m.stats.BecameMaster++
	m.transition(o, now, StateMaster, reason)
}

// enterBackup is Master -> Backup on a better advert.
func (m *Machine) enterBackup(o *Output, now time.Time, a Advert, reason TransitionReason) {
	m.learn(a)
	m.deadline = now.Add(m.MasterDownInterval())
	m.downCause = ReasonMasterDown
	o.Actions = append(o.Actions, Action{Kind: ActionBecomeBackup, State: StateBackup})
	m.transition(o, now, StateBackup, reason)
}

func (m *Machine) enterFault(o *Output, now time.Time) {
	m.deadline = time.Time{}
	o.Actions = append(o.Actions, Action{Kind: ActionBecomeBackup, State: StateFault})
	m.transition(o, now, StateFault, ReasonFault)
}

// learn sets Master_Adver_Interval from a v3 advert (v2 intervals are equal
// by the receive check).
func (m *Machine) learn(a Advert) {
	if m.cfg.Version == Version3 && a.Interval > 0 {
		m.masterInterval = a.Interval
	}
}

func (m *Machine) send(o *Output, priority uint8) {
	m.stats.AdvertsSent++
	if priority == PriorityStop {
		m.stats.PriorityZeroSent++
	}
	o.Actions = append(o.Actions, Action{Kind: ActionSendAdvert, Priority: priority})
}

func (m *Machine) transition(o *Output, now time.Time, to State, reason TransitionReason) {
	o.Transitions = append(o.Transitions, Transition{At: now, From: m.state, To: to, Reason: reason})
	m.state = to
}
