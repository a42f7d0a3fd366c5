package vrrpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/events"
	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
)

// EventType is the SSE event type of a VRRP transition (data: node.Event).
const EventType = "vrrp"

// Source yields the configuration to run (the store's current revision).
type Source func() (rev uint64, cfg config.Config, err error)

// HealthTracker is the health of virtual services as tracking consumes it
// (healthd.Manager).
type HealthTracker interface {
	Track(service string, weight int) (delta int, fault, ok bool)
	Watch() (<-chan struct{}, func())
}

// Gate reports when the IPVS table of a revision is in place (engine.Engine).
type Gate interface {
	WaitApplied(ctx context.Context, rev uint64) error
}

// Publisher takes events for the event stream (events.Hub).
type Publisher interface {
	Publish(typ string, v any) (events.Event, error)
}

// Manager is what runs one unit (node.Manager).
type Manager interface {
	Run(ctx context.Context) error
	SetPriorityDelta(instance, source string, delta int) error
	SetFault(instance, source string, faulted bool, reason string) error
	Update(ic node.InstanceConfig) error
	Snapshot() []node.InstanceStatus
	Sockets() []node.SocketStatus
	Collector() prometheus.Collector
}

// Factory makes the manager of a unit.
type Factory func(cfg node.Config, opts node.Options) (Manager, error)

// Options wire a Service.
type Options struct {
	Source Source
	Log    *slog.Logger
	Health HealthTracker // nil: tracked services count as unknown (no delta)
	Gate   Gate          // nil: virtual addresses are not gated
	// GateTimeout bounds the wait for the IPVS pass before a VIP is added
	// anyway (default 2 s; a warning is logged).
	GateTimeout time.Duration
	Events      Publisher // nil: no events
	// OnMaster is called on every transition to Master (the daemon kicks the
	// engine, which makes sure the IPVS sync daemons run).
	OnMaster func()
	// Poll is how often the Source is looked at without a Kick (default 2 s;
	// only a new revision number is loaded).
	Poll       time.Duration
	Kernel     vip.Kernel // default vip.Netlink{}; wrapped by the gate
	NewManager Factory    // default node.New
	// Script runs a vrrp_script once (default: exec with its timeout).
	Script func(ctx context.Context, s config.VRRPScript) error
}

// historyLen is how many transitions per instance the status keeps (across
// unit restarts).
const historyLen = 64

// Service runs the VRRP units of the current configuration.
type Service struct {
	o    Options
	kick chan struct{}
	evc  chan node.Event
	rev  atomic.Uint64 // revision the units run (the gate waits for its IPVS pass)

	// loop state (Run's goroutine only)
	loaded bool
	units  map[string]*unit
	script *scripts

	mu       sync.Mutex
	order    []string // unit keys in plan order
	byKey    map[string]*unit
	history  map[string][]node.TransitionRecord
	restarts map[string]int
	applied  uint64 // revision of the last apply (status)
	errs     []string
	warns    []string
	col      *collector
}

// unit is a running manager.
type unit struct {
	Unit
	started node.Config // the configuration its manager runs
	mgr     Manager
	cancel  context.CancelFunc
	done    chan struct{}
	deltas  map[[2]string]int  // (instance, source) -> delta last set
	faults  map[[2]string]bool // (instance, source) -> fault last set
	track   map[string][]TrackStatus
}

// TrackStatus is one tracking input's current effect.
type TrackStatus struct {
	Kind   string `json:"kind"` // interface weights are in the node status; these are service or script
	Name   string `json:"name"`
	Weight int    `json:"weight"`
	State  string `json:"state"`           // up, down, unknown
	Delta  int    `json:"delta"`           // applied priority delta
	Fault  bool   `json:"fault,omitempty"` // a weight-0 input that is down: the instance is in FAULT
}

// New returns a Service; Run runs it.
func New(o Options) *Service {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.GateTimeout <= 0 {
		o.GateTimeout = 2 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Kernel == nil {
		o.Kernel = vip.Netlink{}
	}
	if o.NewManager == nil {
		o.NewManager = func(cfg node.Config, opts node.Options) (Manager, error) {
			m, err := node.New(cfg, opts)
			if err != nil {
				return nil, err
			}
			return nodeManager{m, node.NewCollector(m)}, nil
		}
	}
	s := &Service{o: o, kick: make(chan struct{}, 1), evc: make(chan node.Event, 256), units: map[string]*unit{},
		byKey: map[string]*unit{}, history: map[string][]node.TransitionRecord{}, restarts: map[string]int{}}
	s.col = &collector{s: s}
	s.script = newScripts(o.Script, o.Log)
	return s
}

type nodeManager struct {
	*node.Manager
	c *node.Collector
}

func (m nodeManager) Collector() prometheus.Collector { return m.c }

// Kick makes Run look at the Source now (after a commit); it never blocks.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Collector is the Prometheus collector of every unit (lvsbox_vrrp_*).
func (s *Service) Collector() prometheus.Collector { return s.col }

// Run runs the units until ctx ends; then every unit stops (priority 0,
// addresses released).
func (s *Service) Run(ctx context.Context) error {
	var healthc <-chan struct{}
	if s.o.Health != nil {
		c, stop := s.o.Health.Watch()
		defer stop()
		healthc = c
	}
	poll := time.NewTicker(s.o.Poll)
	defer poll.Stop()
	defer s.script.stopAll()
	s.reload(ctx)
	for {
		select {
		case <-ctx.Done():
			s.stopAll()
			return nil
		case <-s.kick:
			s.reload(ctx)
		case <-poll.C:
			s.reload(ctx)
		case <-healthc:
			s.retrack()
		case <-s.script.changed:
			s.retrack()
		case e := <-s.evc:
			s.onEvent(e)
		}
	}
}

func (s *Service) onEvent(e node.Event) {
	s.mu.Lock()
	h := append(s.history[e.Instance], e.Change)
	if len(h) > historyLen {
		h = slices.Delete(h, 0, len(h)-historyLen)
	}
	s.history[e.Instance] = h
	s.mu.Unlock()
	s.o.Log.Info("vrrp: transition", "instance", e.Instance, "from", e.Change.From, "to", e.Change.To, "reason", e.Change.Reason)
	if s.o.Events != nil {
		if _, err := s.o.Events.Publish(EventType, e); err != nil {
			s.o.Log.Warn("vrrp: publish event", "error", err)
		}
	}
	if e.Change.To == vrrp.StateMaster.String() && s.o.OnMaster != nil {
		s.o.OnMaster()
	}
}

// reload applies a new revision of the Source.
func (s *Service) reload(ctx context.Context) {
	rev, cfg, err := s.o.Source()
	if err != nil {
		s.o.Log.Error("vrrp: load configuration", "error", err)
		return
	}
	if s.loaded && rev == s.rev.Load() {
		return
	}
	s.loaded = true
	s.rev.Store(rev)
	s.apply(ctx, Map(cfg))
}

// apply moves the running units to plan: units whose configuration is
// unchanged are left alone, priority-only changes are applied as deltas,
// other changes node can take live go through Manager.Update (no
// re-election, no VIP flap), the rest restart; units no longer planned stop.
func (s *Service) apply(ctx context.Context, p Plan) {
	for _, e := range p.Errors {
		s.o.Log.Error("vrrp: " + e)
	}
	for _, w := range p.Warnings {
		s.o.Log.Warn("vrrp: " + w)
	}
	want := map[string]bool{}
	for _, u := range p.Units {
		want[u.Key] = true
	}
	var stopping []*unit
	for k, u := range s.units {
		if !want[k] {
			s.o.Log.Info("vrrp: unit removed", "unit", k)
			u.cancel()
			stopping = append(stopping, u)
			delete(s.units, k)
		}
	}
	s.wait(stopping)
	for _, pu := range p.Units {
		u := s.units[pu.Key]
		if u != nil {
			c := diff(u.started, pu.Config)
			if c == live {
				if err := s.update(u, pu.Config); err != nil {
					s.o.Log.Warn("vrrp: live update failed", "unit", pu.Key, "error", err)
					c = restart
				} else {
					s.o.Log.Info("vrrp: configuration applied live", "unit", pu.Key)
				}
			}
			switch c {
			case keep, priority, live:
				if c == priority {
					s.o.Log.Info("vrrp: priority changed: applied live", "unit", pu.Key)
				}
				s.mu.Lock()
				u.Unit = pu
				s.mu.Unlock()
				continue
			}
			s.o.Log.Info("vrrp: unit changed: restarting it", "unit", pu.Key)
			u.cancel()
			s.wait([]*unit{u})
			delete(s.units, pu.Key)
			s.mu.Lock()
			s.restarts[pu.Key]++
			s.mu.Unlock()
		}
		nu, err := s.start(ctx, pu)
		if err != nil {
			s.o.Log.Error("vrrp: start unit", "unit", pu.Key, "error", err)
			p.Errors = append(p.Errors, err.Error())
			continue
		}
		s.units[pu.Key] = nu
	}
	s.script.configure(p.Scripts)
	s.mu.Lock()
	s.order = s.order[:0]
	clear(s.byKey)
	for _, pu := range p.Units {
		if u := s.units[pu.Key]; u != nil {
			s.order = append(s.order, pu.Key)
			s.byKey[pu.Key] = u
		}
	}
	s.errs, s.warns = p.Errors, p.Warnings
	s.applied = s.rev.Load()
	s.mu.Unlock()
	s.retrack()
}

// update hands the changed instances of a unit to its manager; base
// priorities stay as started (retrack applies them as deltas, so a priority
// never moves twice).
func (s *Service) update(u *unit, next node.Config) error {
	for i, ic := range next.Instances {
		ic.Priority = u.started.Instances[i].Priority
		if equalConfig(node.Config{Instances: []node.InstanceConfig{ic}}, node.Config{Instances: u.started.Instances[i : i+1]}) {
			continue
		}
		if err := u.mgr.Update(ic); err != nil {
			return err
		}
		u.started.Instances = slices.Clone(u.started.Instances)
		u.started.Instances[i] = ic
	}
	return nil
}

func (s *Service) start(ctx context.Context, pu Unit) (*unit, error) {
	m, err := s.o.NewManager(pu.Config, node.Options{
		Log:    s.o.Log.With("vrrp_unit", pu.Key),
		Kernel: gatedKernel{Kernel: s.o.Kernel, wait: s.waitIPVS},
		Events: s.evc,
	})
	if err != nil {
		return nil, fmt.Errorf("vrrp unit %s: %w", pu.Key, err)
	}
	uctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	u := &unit{Unit: pu, started: pu.Config, mgr: m, cancel: cancel, done: make(chan struct{}), deltas: map[[2]string]int{}, faults: map[[2]string]bool{}}
	go func() {
		defer close(u.done)
		if err := m.Run(uctx); err != nil && !errors.Is(err, context.Canceled) {
			s.o.Log.Error("vrrp: unit stopped", "unit", pu.Key, "error", err)
		}
	}()
	s.o.Log.Info("vrrp: unit started", "unit", pu.Key, "instances", len(pu.Config.Instances))
	return u, nil
}

// wait waits for stopped units, still handing their events on.
func (s *Service) wait(us []*unit) {
	for _, u := range us {
		for done := false; !done; {
			select {
			case <-u.done:
				done = true
			case e := <-s.evc:
				s.onEvent(e)
			}
		}
	}
}

func (s *Service) stopAll() {
	var us []*unit
	for _, u := range s.units {
		u.cancel()
		us = append(us, u)
	}
	s.wait(us)
	for {
		select {
		case e := <-s.evc:
			s.onEvent(e)
		default:
			return
		}
	}
}

// retrack recomputes the configuration priority offsets and the tracked
// service and script deltas of every unit.
func (s *Service) retrack() {
	for _, u := range s.units {
		track := map[string][]TrackStatus{}
		for i, ic := range u.Config.Instances {
			s.setDelta(u, ic.Name, "config-priority", int(ic.Priority)-int(u.started.Instances[i].Priority))
			for _, t := range u.Tracks[ic.Name] {
				ts := s.trackStatus(t)
				track[ic.Name] = append(track[ic.Name], ts)
				s.setDelta(u, ic.Name, t.Kind+":"+t.Name, ts.Delta)
				s.setFault(u, ic.Name, t.Kind+":"+t.Name, ts.Fault)
			}
		}
		s.mu.Lock()
		u.track = track
		s.mu.Unlock()
	}
}

func (s *Service) setDelta(u *unit, inst, source string, d int) {
	k := [2]string{inst, source}
	if old, ok := u.deltas[k]; ok && old == d || !ok && d == 0 {
		return
	}
	if err := u.mgr.SetPriorityDelta(inst, source, d); err != nil {
		s.o.Log.Error("vrrp: priority delta", "instance", inst, "source", source, "error", err)
		return
	}
	u.deltas[k] = d
}

func (s *Service) setFault(u *unit, inst, source string, faulted bool) {
	k := [2]string{inst, source}
	if u.faults[k] == faulted {
		return
	}
	if err := u.mgr.SetFault(inst, source, faulted, "down"); err != nil {
		s.o.Log.Error("vrrp: fault", "instance", inst, "source", source, "error", err)
		return
	}
	u.faults[k] = faulted
}

// trackStatus evaluates one tracked service or script (keepalived semantics:
// weight 0 = down means FAULT).
func (s *Service) trackStatus(t Track) TrackStatus {
	ts := TrackStatus{Kind: t.Kind, Name: t.Name, Weight: t.Weight, State: "unknown"}
	var up, known bool
	switch t.Kind {
	case "service":
		if s.o.Health != nil {
			_, fault, ok := s.o.Health.Track(t.Name, 0)
			up, known = !fault, ok
		}
	case "script":
		up, known = s.script.state(t.Name)
	}
	if !known {
		return ts
	}
	ts.State = "down"
	if up {
		ts.State = "up"
	}
	switch {
	case t.Weight == 0 && !up:
		ts.Fault = true
	case t.Weight > 0 && up, t.Weight < 0 && !up:
		ts.Delta = t.Weight
	}
	return ts
}

// waitIPVS holds a VIP add until the engine's pass of the running revision
// has completed (at most GateTimeout).
func (s *Service) waitIPVS() {
	if s.o.Gate == nil {
		return
	}
	rev := s.rev.Load()
	ctx, cancel := context.WithTimeout(context.Background(), s.o.GateTimeout)
	defer cancel()
	start := time.Now()
	if err := s.o.Gate.WaitApplied(ctx, rev); err != nil {
		s.o.Log.Warn("vrrp: IPVS pass of the running revision not complete; adding the virtual address anyway",
			"revision", rev, "waited", time.Since(start).Round(time.Millisecond), "error", err)
	}
}

// gatedKernel waits for the IPVS gate before adding an address.
type gatedKernel struct {
	vip.Kernel
	wait func()
}

func (k gatedKernel) AddAddr(ifindex int, p netip.Prefix) error {
	k.wait()
	return k.Kernel.AddAddr(ifindex, p)
}
