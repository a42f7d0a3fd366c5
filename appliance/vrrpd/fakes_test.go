package vrrpd

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/events"
	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
)

// fakeMgr records what the service does to one unit's manager.
type fakeMgr struct {
	cfg     node.Config
	opts    node.Options
	mu      sync.Mutex
	running bool
	stopped bool
	deltas  map[[2]string]int
	faults  map[[2]string]string // (instance, source) -> reason
	updates []node.InstanceConfig
}

func (m *fakeMgr) SetFault(instance, source string, faulted bool, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.faults == nil {
		m.faults = map[[2]string]string{}
	}
	if faulted {
		m.faults[[2]string{instance, source}] = reason
	} else {
		delete(m.faults, [2]string{instance, source})
	}
	return nil
}

func (m *fakeMgr) fault(instance, source string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.faults[[2]string{instance, source}]
	return r, ok
}

// Update behaves like node.Manager.Update.
func (m *fakeMgr) Update(ic node.InstanceConfig) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.cfg.Instances, func(c node.InstanceConfig) bool { return c.Name == ic.Name })
	if i < 0 {
		return fmt.Errorf("no instance %q", ic.Name)
	}
	if why := node.RestartReason(m.cfg.Instances[i], ic); why != "" {
		return fmt.Errorf("%w: %s", node.ErrRestartNeeded, why)
	}
	m.cfg.Instances = slices.Clone(m.cfg.Instances)
	m.cfg.Instances[i] = ic
	m.updates = append(m.updates, ic)
	return nil
}

func (m *fakeMgr) updated() []node.InstanceConfig {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.updates)
}

func (m *fakeMgr) Run(ctx context.Context) error {
	m.mu.Lock()
	m.running = true
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	m.running, m.stopped = false, true
	m.mu.Unlock()
	return nil
}

func (m *fakeMgr) SetPriorityDelta(instance, source string, delta int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if delta == 0 {
		delete(m.deltas, [2]string{instance, source})
	} else {
		m.deltas[[2]string{instance, source}] = delta
	}
	return nil
}

func (m *fakeMgr) delta(instance, source string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.deltas[[2]string{instance, source}]
}

func (m *fakeMgr) isStopped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopped
}

func (m *fakeMgr) Snapshot() []node.InstanceStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []node.InstanceStatus
	for _, ic := range m.cfg.Instances {
		out = append(out, node.InstanceStatus{Name: ic.Name, Interface: ic.Interface, VRID: ic.VRID, State: "Backup",
			BasePriority: ic.Priority, Priority: ic.Priority})
	}
	return out
}

func (m *fakeMgr) Sockets() []node.SocketStatus { return nil }

func (m *fakeMgr) Collector() prometheus.Collector { return prometheus.NewRegistry() }

// fakeFactory hands out fakeMgrs and remembers every one.
type fakeFactory struct {
	mu   sync.Mutex
	mgrs []*fakeMgr
}

func (f *fakeFactory) new(cfg node.Config, opts node.Options) (Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &fakeMgr{cfg: cfg, opts: opts, deltas: map[[2]string]int{}}
	f.mu.Lock()
	f.mgrs = append(f.mgrs, m)
	f.mu.Unlock()
	return m, nil
}

// live returns the running managers by their first instance's name, and how
// many managers were made.
func (f *fakeFactory) live() (map[string]*fakeMgr, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]*fakeMgr{}
	for _, m := range f.mgrs {
		if !m.isStopped() {
			m.mu.Lock()
			out[m.cfg.Instances[0].Name] = m
			m.mu.Unlock()
		}
	}
	return out, len(f.mgrs)
}

// fakeSource is a store whose revision the test sets.
type fakeSource struct {
	mu  sync.Mutex
	rev uint64
	cfg config.Config
}

func (s *fakeSource) set(cfg config.Config) {
	s.mu.Lock()
	s.rev++
	s.cfg = cfg
	s.mu.Unlock()
}

func (s *fakeSource) get() (uint64, config.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev, s.cfg.Clone(), nil
}

type fakeHealth struct {
	mu   sync.Mutex
	up   map[string]bool
	watc chan struct{}
}

func (h *fakeHealth) Track(name string, weight int) (int, bool, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	up, ok := h.up[name]
	if !ok {
		return 0, false, false
	}
	if weight == 0 {
		return 0, !up, true
	}
	return 0, false, true
}

func (h *fakeHealth) Watch() (<-chan struct{}, func()) { return h.watc, func() {} }

func (h *fakeHealth) setUp(name string, up bool) {
	h.mu.Lock()
	h.up[name] = up
	h.mu.Unlock()
	h.watc <- struct{}{}
}

type fakeHub struct {
	mu  sync.Mutex
	evs []any
}

func (h *fakeHub) Publish(typ string, v any) (events.Event, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.evs = append(h.evs, v)
	return events.Event{Type: typ}, nil
}

func (h *fakeHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.evs)
}

// fakeKernel records address adds.
type fakeKernel struct {
	vip.Kernel
	added chan netip.Prefix
}

func (k fakeKernel) AddAddr(_ int, p netip.Prefix) error {
	k.added <- p
	return nil
}

type fakeGate struct{ release chan struct{} }

func (g fakeGate) WaitApplied(ctx context.Context, _ uint64) error {
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
