package healthd

import (
	"context"
	"log/slog"
	"net/netip"
	"reflect"
	"sync"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/engine"
	"github.com/lvsbox/lvsbox/appliance/events"
	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/checker"
	"github.com/lvsbox/lvsbox/appliance/health/metrics"
	"github.com/lvsbox/lvsbox/appliance/health/scheduler"
	"github.com/lvsbox/lvsbox/appliance/health/service"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// Publisher is where events go (an *events.Hub).
type Publisher interface {
	Publish(typ string, v any) (events.Event, error)
}

// EventType is the SSE event type of health events.
const EventType = "health"

// Options wire a Manager.
type Options struct {
	// Scheduler configures the check scheduler (clock, workers, checker options;
	// tests inject NewChecker). Observers are called after the Manager's own
	// (metrics, events); Logger defaults to Log.
	Scheduler scheduler.Config
	Log       *slog.Logger
	// Events receives a "health" event per real server going up or down and per
	// quorum/sorry change (nil: none).
	Events Publisher
	// OnChange is called whenever the verdicts changed after a check result (the
	// engine's Kick). Changes made by Configure are returned to its caller instead.
	OnChange func()
}

// Manager runs the health checks of the current configuration and evaluates its
// virtual services. It implements engine.Health. Safe for concurrent use.
type Manager struct {
	o         Options
	sched     *scheduler.Scheduler
	collector *metrics.Collector

	mu       sync.Mutex
	model    model
	rev      uint64
	applied  bool                                   // a configuration was applied
	adopt    map[string]map[ipvs.DestinationKey]int // from Adopt, used by the first Configure
	adopting bool
	applyErr string                   // the scheduler refused the last subscriptions
	states   map[string]service.State // per service name, kept across configurations
	outcomes map[string]outcome
	verdicts engine.Verdicts
	watchers map[chan struct{}]struct{}
}

// outcome is the evaluation of one service.
type outcome struct {
	service.Outcome
	health ServiceHealth
	up     map[string]bool // subscription ID → up
}

// New returns a Manager with no configuration; call Run, and Configure (the engine
// does).
func New(o Options) *Manager {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	m := &Manager{o: o, states: map[string]service.State{}, outcomes: map[string]outcome{},
		verdicts: engine.Verdicts{Services: map[string]engine.ServiceVerdict{}}, watchers: map[chan struct{}]struct{}{}}
	sc := o.Scheduler
	if sc.Logger == nil {
		sc.Logger = o.Log
	}
	if sc.NewChecker == nil {
		opts := sc.CheckerOptions
		sc.NewChecker = func(spec health.Spec, server netip.AddrPort) (checker.Checker, error) {
			c, err := checker.New(spec, server, opts)
			if err != nil {
				// One real server's unusable check (a missing client certificate, no
				// port on an all-ports service) must not stop every other check:
				// this one fails with the reason, so the server stays out.
				return failing{text: "check cannot run: " + err.Error()}, nil
			}
			return c, nil
		}
	}
	m.collector = metrics.New(snapshotFunc(func() scheduler.Snapshot { return m.sched.Snapshot() }), m.serviceMetrics)
	sc.Observers = append([]scheduler.Observer{m.collector, scheduler.ObserverFunc(m.observe)}, sc.Observers...)
	m.sched = scheduler.New(sc)
	return m
}

type snapshotFunc func() scheduler.Snapshot

func (f snapshotFunc) Snapshot() scheduler.Snapshot { return f() }

// failing is the checker of a check that cannot be built.
type failing struct{ text string }

func (f failing) Check(context.Context) health.Result { return health.Result{Text: f.text} }

// Collector is the Prometheus collector of the health checks and services.
func (m *Manager) Collector() *metrics.Collector { return m.collector }

// Run runs the checks and re-evaluates the services after every state change
// until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { m.sched.Run(ctx) })
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.sched.Changed():
		}
		m.mu.Lock()
		changed, health := m.evaluate()
		m.mu.Unlock()
		if changed && m.o.OnChange != nil {
			m.o.OnChange()
		}
		if health {
			m.notify()
		}
	}
}

// Adopt implements engine.Health: the next Configure starts the probes of real
// servers the kernel has in service up instead of down (see adoptable).
func (m *Manager) Adopt(table map[string]map[ipvs.DestinationKey]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.adopt, m.adopting = table, true
}

// adoptable reports whether the kernel's table shows mb in service: present with
// weight > 0, or present with weight 0 where a down server would be absent
// (on_failure remove) and the configured weight is 0 anyway (drained).
func adoptable(table map[string]map[ipvs.DestinationKey]int, svc string, mb member) bool {
	w, ok := table[svc][mb.key]
	return ok && (w > 0 || (mb.weight == 0 && mb.onFailure == service.Remove))
}

// Configure implements engine.Health.
func (m *Manager) Configure(rev uint64, cfg config.Config) engine.Verdicts {
	m.mu.Lock()
	if m.applied && rev == m.rev && !m.adopting {
		v := m.verdicts
		m.mu.Unlock()
		return v
	}
	md := buildModel(cfg)
	if m.adopting {
		adopted := 0
		for _, sm := range md.services {
			for _, mb := range sm.servers {
				if mb.id == "" || mb.err != "" || !adoptable(m.adopt, sm.name, mb) {
					continue
				}
				for i := range md.subs {
					if md.subs[i].ID == mb.id {
						md.subs[i].Adopt = true
						adopted++
					}
				}
			}
		}
		m.o.Log.Info("health: real servers in service in the kernel start up", "adopted", adopted, "checked", md.checked)
		m.adopt, m.adopting = nil, false
	}
	m.applyErr = ""
	if _, err := m.sched.Apply(md.subs); err != nil {
		// Specs are validated per server and checker errors become failing checks,
		// so this is a bug; keep the previous checks running and say so.
		m.applyErr = err.Error()
		m.o.Log.Error("health: checks not updated", "revision", rev, "error", err)
	}
	m.model, m.rev, m.applied = md, rev, true
	_, health := m.evaluate()
	v := m.verdicts
	m.mu.Unlock()
	if health {
		m.notify()
	}
	return v
}

// Preview implements engine.Health: the verdicts cfg would get now. Real servers
// whose probe (target and spec) already runs get its state; others are down, as
// they would start.
func (m *Manager) Preview(cfg config.Config) engine.Verdicts {
	md := buildModel(cfg)
	snap := m.sched.Snapshot()
	probes := map[health.Key]scheduler.Health{}
	for _, p := range snap.Probes {
		probes[p.Key] = scheduler.Health{Up: p.Up, Weight: p.Weight, HasWeight: p.HasWeight}
	}
	m.mu.Lock()
	states := make(map[string]service.State, len(m.states))
	for k, v := range m.states {
		states[k] = v
	}
	m.mu.Unlock()
	v := engine.Verdicts{Services: map[string]engine.ServiceVerdict{}}
	for _, sm := range md.services {
		members := make([]service.Member, len(sm.servers))
		for i, mb := range sm.servers {
			h := probes[mb.probe]
			if mb.err != "" || mb.id == "" {
				h = scheduler.Health{}
			}
			members[i] = memberOf(mb, h)
		}
		out := service.Evaluate(sm.spec, states[sm.name], members)
		v.Services[sm.name] = verdictOf(sm, out)
	}
	return v
}

// memberOf is mb as service.Evaluate sees it, with health h.
func memberOf(mb member, h scheduler.Health) service.Member {
	sm := service.Member{ID: mb.id, Weight: mb.weight, Checked: mb.id != "", Up: h.Up && mb.err == "", OnFailure: mb.onFailure}
	if h.HasWeight && !mb.drain {
		sm.Dynamic, sm.HasDynamic = h.Weight, true
	}
	return sm
}

func verdictOf(sm svcModel, out service.Outcome) engine.ServiceVerdict {
	sv := engine.ServiceVerdict{Servers: make(map[ipvs.DestinationKey]engine.ServerVerdict, len(sm.servers)), Sorry: out.Sorry}
	for i, mb := range sm.servers {
		d := out.Members[i]
		sv.Servers[mb.key] = engine.ServerVerdict{Present: d.Present, Weight: d.Weight}
	}
	return sv
}

// evaluate recomputes every service from the current model and check states,
// logging and publishing service events. It reports whether the verdicts changed
// and whether any service's health (for VRRP) changed. Called with mu held.
func (m *Manager) evaluate() (verdictsChanged, healthChanged bool) {
	services := make(map[string]engine.ServiceVerdict, len(m.model.services))
	outcomes := make(map[string]outcome, len(m.model.services))
	states := make(map[string]service.State, len(m.model.services))
	for _, sm := range m.model.services {
		members := make([]service.Member, len(sm.servers))
		up := map[string]bool{}
		for i, mb := range sm.servers {
			var h scheduler.Health
			if mb.id != "" && mb.err == "" {
				h, _ = m.sched.Health(mb.id)
			}
			members[i] = memberOf(mb, h)
			if mb.id != "" {
				up[mb.id] = members[i].Up
			}
		}
		out := service.Evaluate(sm.spec, m.states[sm.name], members)
		states[sm.name] = out.State
		sh := ServiceHealth{Up: out.QuorumUp, UpWeight: out.UpWeight, UpServers: out.UpCount, Servers: len(sm.servers), Sorry: out.Sorry}
		outcomes[sm.name] = outcome{Outcome: out, health: sh, up: up}
		services[sm.name] = verdictOf(sm, out)
		for _, ev := range out.Events {
			m.serviceEvent(sm.name, ev)
		}
		if prev, ok := m.outcomes[sm.name]; !ok || prev.health != sh {
			healthChanged = true
		}
	}
	if len(outcomes) != len(m.outcomes) {
		healthChanged = true
	}
	m.states, m.outcomes = states, outcomes
	if !reflect.DeepEqual(services, m.verdicts.Services) {
		m.verdicts = engine.Verdicts{Generation: m.verdicts.Generation + 1, Services: services}
		verdictsChanged = true
	}
	return verdictsChanged, healthChanged
}
