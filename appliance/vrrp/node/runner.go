package node

import (
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet"
)

// maxRecheck bounds how long a backup whose Master_Down_Timer ran out
// waits for adverts that arrived but were not read yet (its process was
// starved of CPU), before taking over.
const maxRecheck = 10 * time.Millisecond

// rxQueue is how many received adverts wait for a runner before the socket
// reader counts overruns.
const rxQueue = 256

type rxMsg struct {
	idx int
	in  vrnet.Inbound
}

// inputs are what the manager feeds a runner through its mailbox.
type inputs struct {
	facts Facts
	conns map[sockKey]vrnet.Conn
	ext   map[string]map[string]int // instance -> source -> priority delta
	// faults are external FAULT inputs: instance -> source -> reason.
	faults map[string]map[string]string
	// updates are configurations to apply live, by instance (taken by the loop).
	updates map[string]InstanceConfig
	ready   bool // facts have arrived at least once
}

// runner is the protocol goroutine of one instance, or of every member of
// one sync group.
type runner struct {
	group   string // sync group name, "" for a lone instance
	members []*member
	log     *slog.Logger
	now     func() time.Time
	emit    func(Event)

	rx   chan rxMsg
	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	recheckUntil time.Time // deferring a takeover until then (zero: not deferring)
	recheckAt    time.Time // next look at the sockets while deferring

	mu   sync.Mutex
	in   inputs
	snap []InstanceStatus
}

func newRunner(group string, members []*member, log *slog.Logger, now func() time.Time, emit func(Event)) *runner {
	return &runner{group: group, members: members, log: log, now: now, emit: emit,
		rx: make(chan rxMsg, rxQueue), kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		in: inputs{ext: map[string]map[string]int{}, faults: map[string]map[string]string{}}}
}

// setFault sets or clears an external fault (a tracked service or script
// with weight 0) for one member.
func (r *runner) setFault(instance, source string, faulted bool, reason string) {
	r.mu.Lock()
	all := maps.Clone(r.in.faults)
	m := maps.Clone(all[instance])
	if m == nil {
		m = map[string]string{}
	}
	if faulted {
		m[source] = reason
	} else {
		delete(m, source)
	}
	all[instance] = m
	r.in.faults = all
	r.mu.Unlock()
	r.poke()
}

// setUpdate queues a configuration to apply live to one member.
func (r *runner) setUpdate(ic InstanceConfig) {
	r.mu.Lock()
	if r.in.updates == nil {
		r.in.updates = map[string]InstanceConfig{}
	}
	r.in.updates[ic.Name] = ic
	r.mu.Unlock()
	r.poke()
}

// extFault renders the external faults of one member ("" if none).
func extFault(m map[string]string) string {
	var parts []string
	for _, src := range slices.Sorted(maps.Keys(m)) {
		if m[src] == "" {
			parts = append(parts, src)
		} else {
			parts = append(parts, src+": "+m[src])
		}
	}
	return strings.Join(parts, "; ")
}

// update applies a new configuration to a member without a transition: the
// machine takes the new interval and addresses, the address worker adds and
// removes what changed if master.
func (r *runner) update(now time.Time, mb *member, ic InstanceConfig) {
	if err := mb.m.Reconfigure(now, ic.VRRP(mb.primary)); err != nil {
		r.log.Error("vrrp: live update", "instance", ic.Name, "err", err)
		return
	}
	mb.cfg = ic
	mb.vcfg = mb.m.Config()
	if err := mb.worker.SetSpec(ic.VIPSpec()); err != nil {
		r.log.Error("vrrp: live update of the virtual addresses", "instance", ic.Name, "err", err)
	}
	r.log.Info("vrrp: configuration applied live", "instance", ic.Name, "state", mb.m.State())
}

// deliver is the vrnet.Deliver for member idx: never blocks.
func (r *runner) deliver(idx int) vrnet.Deliver {
	return func(in vrnet.Inbound) bool {
		select {
		case r.rx <- rxMsg{idx, in}:
			return true
		default:
			return false
		}
	}
}

// setFacts hands new link facts and sockets to the runner.
func (r *runner) setFacts(f Facts, conns map[sockKey]vrnet.Conn) {
	r.mu.Lock()
	r.in.facts, r.in.conns, r.in.ready = f, conns, true
	r.mu.Unlock()
	r.poke()
}

// setDelta sets an external priority delta (health, quorum) for one member.
func (r *runner) setDelta(instance, source string, delta int) {
	r.mu.Lock()
	ext := maps.Clone(r.in.ext)
	m := maps.Clone(ext[instance])
	if m == nil {
		m = map[string]int{}
	}
	if delta == 0 {
		delete(m, source)
	} else {
		m[source] = delta
	}
	ext[instance] = m
	r.in.ext = ext
	r.mu.Unlock()
	r.poke()
}

func (r *runner) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *runner) snapshot() []InstanceStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snap
}

// run is the protocol loop; it returns after Stop was processed.
func (r *runner) run() {
	defer close(r.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	r.applyInputs(r.now())
	for {
		r.arm(timer)
		r.publish()
		select {
		case <-r.stop:
			r.shutdown(r.now())
			r.publish()
			return
		case msg := <-r.rx:
			r.receive(r.now(), msg)
		case <-r.kick:
			r.applyInputs(r.now())
		case <-timer.C:
			r.tick(r.now())
		}
	}
}

// arm sets the timer to the earliest deadline that is not held back by the
// sync group.
func (r *runner) arm(timer *time.Timer) {
	now := r.now()
	var next time.Time
	for _, mb := range r.members {
		d, ok := mb.m.Deadline()
		if !ok || r.held(mb, now) {
			continue
		}
		if next.IsZero() || d.Before(next) {
			next = d
		}
	}
	if !r.recheckAt.IsZero() && (next.IsZero() || r.recheckAt.Before(next)) {
		next = r.recheckAt
	}
	if next.IsZero() {
		timer.Stop()
		return
	}
	timer.Reset(max(next.Sub(now), 0))
}

// held reports whether a backup whose timer ran out waits for the rest of
// its sync group (keepalived: go master only when every member wants to).
func (r *runner) held(mb *member, now time.Time) bool {
	return r.group != "" && mb.m.State() == vrrp.StateBackup && mb.due(now) && !r.allWantMaster(now)
}

func (r *runner) allWantMaster(now time.Time) bool {
	for _, mb := range r.members {
		switch mb.m.State() {
		case vrrp.StateMaster:
		case vrrp.StateBackup:
			if !mb.due(now) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// applyInputs re-assesses facts and deltas: source address changes rebuild
// the machine, faults (spread over the sync group) and priorities are set,
// and machines that never started are started.
func (r *runner) applyInputs(now time.Time) {
	r.mu.Lock()
	in := r.in
	r.in.updates = nil
	r.mu.Unlock()
	for _, mb := range r.members {
		if ic, ok := in.updates[mb.cfg.Name]; ok {
			r.update(now, mb, ic)
		}
	}
	if !in.ready {
		return // no machine starts before the first facts: it would only see a missing interface
	}
	groupFault := ""
	for _, mb := range r.members {
		a := Assess(&mb.cfg, in.facts)
		mb.conn = in.conns[mb.cfg.sockKey()]
		if mb.conn == nil && a.Fault == "" {
			a.Fault = fmt.Sprintf("no %v socket on %s", mb.cfg.Family(), mb.cfg.Interface)
		}
		if a.Fault == "" {
			a.Fault = extFault(in.faults[mb.cfg.Name])
		}
		mb.ownFault = a.Fault
		mb.delta = a.Delta
		for _, d := range in.ext[mb.cfg.Name] {
			mb.delta += d
		}
		if a.Primary.IsValid() && a.Primary != mb.primary {
			if st := mb.m.State(); st == vrrp.StateBackup || st == vrrp.StateMaster {
				r.log.Info("vrrp: source address changed, restarting instance", "instance", mb.cfg.Name, "from", mb.primary, "to", a.Primary)
				r.perform(mb, mb.m.Shutdown(now))
			}
			if err := mb.rebuild(a.Primary); err != nil {
				// Validated up front; only a broken source address gets here.
				r.log.Error("vrrp: instance", "instance", mb.cfg.Name, "err", err)
			}
		}
		if r.group != "" && a.Fault != "" && groupFault == "" {
			groupFault = fmt.Sprintf("sync group %s: %s: %s", r.group, mb.cfg.Name, a.Fault)
		}
	}
	for _, mb := range r.members {
		mb.fault = mb.ownFault
		if mb.fault == "" {
			mb.fault = groupFault
		}
		r.perform(mb, mb.m.SetPriority(now, vrrp.EffectivePriority(mb.cfg.Priority, mb.delta)))
		r.perform(mb, mb.m.SetFault(now, mb.fault != ""))
		if !mb.started {
			mb.started = true
			if mb.cfg.InitialMaster && !mb.startedOnce {
				r.perform(mb, mb.m.StartMaster(now))
			} else {
				r.perform(mb, mb.m.Start(now))
			}
			mb.startedOnce = true
		}
	}
}

// receive runs the per-instance checks and feeds the machine.
func (r *runner) receive(now time.Time, msg rxMsg) {
	mb := r.members[msg.idx]
	v := mb.vcfg.CheckDecoded(msg.in.Verdict)
	if v.Accepted() && len(mb.cfg.UnicastPeers) > 0 && !slices.Contains(mb.cfg.UnicastPeers, v.Src) {
		v.Drop = ReasonPeer
	}
	if !v.Accepted() {
		mb.dropped[string(v.Drop)]++
		return
	}
	if v.Warn != "" {
		mb.warnings[string(v.Warn)]++
	}
	before := mb.m.Stats().DualMasterEpisodes
	out := mb.m.Receive(now, v.Advert())
	if mb.m.Stats().DualMasterEpisodes > before {
		// Split brain: the machine answered with an advert; refresh the
		// neighbours' caches too.
		r.log.Warn("vrrp: another master with lower priority heard", "instance", mb.cfg.Name, "other", v.Src, "other_priority", v.Packet.Priority)
		mb.worker.Announce()
	}
	if mb.m.State() == vrrp.StateBackup && v.Packet.Priority != vrrp.PriorityStop {
		mb.masterAddr = v.Src
	}
	if lostTo(out) {
		// Split brain healing: we were master and heard a better one. It
		// may never have heard us (partition), so it would not refresh the
		// neighbours' caches that still point at us: one last advert with
		// our priority makes it answer at once and send fresh GARPs/NAs.
		r.send(mb, mb.m.Priority())
	}
	r.perform(mb, out)
	r.follow(now, mb, out)
}

// lostTo reports whether out is Master -> Backup because of a better advert.
func lostTo(out vrrp.Output) bool {
	for _, tr := range out.Transitions {
		if tr.From == vrrp.StateMaster && (tr.Reason == vrrp.ReasonHigherPriority || tr.Reason == vrrp.ReasonHigherAddress) {
			return true
		}
	}
	return false
}

// tick services the timers that ran out: masters advertise; backups take
// over, in a sync group only when every member wants to.
func (r *runner) tick(now time.Time) {
	for _, mb := range r.members {
		if mb.m.State() == vrrp.StateMaster && mb.due(now) {
			r.perform(mb, mb.m.Tick(now))
		}
	}
	var due []*member
	for _, mb := range r.members {
		if mb.m.State() == vrrp.StateBackup && mb.due(now) {
			due = append(due, mb)
		}
	}
	r.recheckAt = time.Time{}
	if len(due) == 0 || (r.group != "" && !r.allWantMaster(now)) {
		r.recheckUntil = time.Time{}
		return
	}
	if r.advertsWaiting(now, due) {
		return
	}
	for _, mb := range due {
		if mb.due(now) && mb.m.State() == vrrp.StateBackup {
			r.perform(mb, mb.m.Tick(now))
		}
	}
}

// advertsWaiting handles a starved process: the timer and the adverts that
// would have stopped it became ready together. Queued adverts are fed to
// the machines first; if a due member's socket still holds unread data, the
// takeover is put off (for at most maxRecheck) so the reader can deliver it.
func (r *runner) advertsWaiting(now time.Time, due []*member) bool {
	for {
		select {
		case msg := <-r.rx:
			r.receive(r.now(), msg)
			continue
		default:
		}
		break
	}
	pending := false
	for _, mb := range due {
		if mb.due(now) && mb.m.State() == vrrp.StateBackup && mb.conn != nil && mb.conn.Pending() {
			pending = true
			mb.rechecks++
		}
	}
	if !pending {
		r.recheckUntil = time.Time{}
		return false
	}
	if r.recheckUntil.IsZero() {
		r.recheckUntil = now.Add(maxRecheck)
	}
	if !now.Before(r.recheckUntil) {
		r.recheckUntil = time.Time{}
		return false
	}
	r.recheckAt = now.Add(time.Millisecond)
	return true
}

// follow makes the other members of a sync group leave Master when one lost
// it to a better router.
func (r *runner) follow(now time.Time, from *member, out vrrp.Output) {
	if r.group == "" {
		return
	}
	for _, tr := range out.Transitions {
		if tr.From != vrrp.StateMaster || tr.To != vrrp.StateBackup {
			continue
		}
		for _, mb := range r.members {
			if mb != from && mb.m.State() == vrrp.StateMaster {
				r.log.Info("vrrp: sync group member follows", "group", r.group, "instance", mb.cfg.Name, "after", from.cfg.Name)
				r.perform(mb, mb.m.Yield(now))
			}
		}
	}
}

// shutdown sends priority 0 from masters and releases every address.
func (r *runner) shutdown(now time.Time) {
	for _, mb := range r.members {
		r.perform(mb, mb.m.Shutdown(now))
	}
}

// perform carries out the machine's actions in order and records transitions.
func (r *runner) perform(mb *member, out vrrp.Output) {
	for _, a := range out.Actions {
		switch a.Kind {
		case vrrp.ActionSendAdvert:
			r.send(mb, a.Priority)
		case vrrp.ActionBecomeMaster:
			mb.worker.SetMaster(true)
			mb.masterAddr = mb.primary
		case vrrp.ActionBecomeBackup:
			mb.worker.SetMaster(false)
			if a.State != vrrp.StateBackup || mb.masterAddr == mb.primary {
				mb.masterAddr = netip.Addr{}
			}
		}
	}
	for _, tr := range out.Transitions {
		rec := mb.record(tr)
		r.log.Info("vrrp: transition", "instance", mb.cfg.Name, "vrid", mb.cfg.VRID, "from", rec.From, "to", rec.To, "reason", rec.Reason, "priority", mb.m.Priority())
		if r.emit != nil {
			r.emit(Event{Instance: mb.cfg.Name, SyncGroup: r.group, VRID: mb.cfg.VRID, Interface: mb.cfg.Interface, Change: rec})
		}
	}
}

// send sends one advert to the group or to every unicast peer.
func (r *runner) send(mb *member, priority uint8) {
	if mb.conn == nil || !mb.primary.IsValid() {
		mb.sendErrs++
		return
	}
	p := mb.vcfg.Advertisement(priority)
	dsts := mb.cfg.UnicastPeers
	if len(dsts) == 0 {
		dsts = []netip.Addr{mb.vcfg.Group()}
	}
	for _, dst := range dsts {
		b, err := p.Marshal(mb.primary, dst)
		if err == nil {
			err = mb.conn.Send(b, mb.primary, dst)
		}
		if err != nil {
			if mb.sendErrs++; mb.sendErrs == 1 || mb.sendErrs%100 == 0 {
				r.log.Warn("vrrp: send advert", "instance", mb.cfg.Name, "errors", mb.sendErrs, "err", err)
			}
		}
	}
}

// publish stores the members' status for readers outside the loop.
func (r *runner) publish() {
	now := r.now()
	snap := make([]InstanceStatus, len(r.members))
	for i, mb := range r.members {
		snap[i] = mb.status(r.group, r.held(mb, now))
	}
	r.mu.Lock()
	r.snap = snap
	r.mu.Unlock()
}
