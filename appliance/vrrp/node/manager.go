package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet"
)

// LinkSource reports interface facts: update is called with the complete
// facts at start and after every change, from one goroutine, until ctx ends.
type LinkSource interface {
	Watch(ctx context.Context, update func(Facts)) error
}

// Options are the manager's collaborators; zero values take the Linux
// implementations.
type Options struct {
	Log       *slog.Logger
	Kernel    vip.Kernel                                               // default vip.Netlink{}
	Announcer vip.Announcer                                            // default &vip.Sender{}
	Links     LinkSource                                               // default NetlinkLinks
	Open      func(ifname string, fam vrrp.Family) (vrnet.Conn, error) // default vrnet.Open
	Now       func() time.Time                                         // default time.Now (monotonic)
	// Events receives every transition; a full channel drops (counted).
	Events chan<- Event
	// ReleaseTimeout bounds the address release at shutdown (default 5 s).
	ReleaseTimeout time.Duration
}

// sock is one open socket and its reader.
type sock struct {
	conn  vrnet.Conn
	demux *vrnet.Demux
	index int
	done  chan struct{}
}

// user is a member that listens on a socket.
type user struct {
	r    *runner
	idx  int
	vrid uint8
}

// SocketStatus is one socket's counters.
type SocketStatus struct {
	Interface string          `json:"interface"`
	Family    string          `json:"family"`
	Open      bool            `json:"open"`
	Error     string          `json:"error,omitempty"`
	Stats     vrnet.LinkStats `json:"stats"`
}

// Manager runs every configured instance.
type Manager struct {
	cfg     Config
	opts    Options
	log     *slog.Logger
	runners []*runner
	byName  map[string]*runner
	workers []*vip.Worker
	users   map[sockKey][]user

	mu       sync.Mutex
	socks    map[sockKey]*sock
	openErrs map[sockKey]error
	facts    Facts

	eventsDropped atomic.Uint64
}

// New validates cfg and prepares the instances; Run starts them.
func New(cfg Config, opts Options) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Instances = slices.Clone(cfg.Instances) // Update replaces entries
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Kernel == nil {
		opts.Kernel = vip.Netlink{}
	}
	if opts.Announcer == nil {
		opts.Announcer = &vip.Sender{}
	}
	if opts.Links == nil {
		opts.Links = NetlinkLinks{Log: opts.Log}
	}
	if opts.Open == nil {
		opts.Open = func(ifname string, fam vrrp.Family) (vrnet.Conn, error) { return vrnet.Open(ifname, fam) }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReleaseTimeout == 0 {
		opts.ReleaseTimeout = 5 * time.Second
	}
	m := &Manager{cfg: cfg, opts: opts, log: opts.Log, byName: map[string]*runner{}, users: map[sockKey][]user{},
		socks: map[sockKey]*sock{}, openErrs: map[sockKey]error{}}
	group := map[string]string{}
	for _, g := range cfg.SyncGroups {
		for _, n := range g.Members {
			group[n] = g.Name
		}
	}
	byGroup := map[string]*runner{}
	for _, ic := range cfg.Instances {
		if !ic.FirstLinkLocal() {
			m.log.Warn("vrrp: the first IPv6 virtual address is not link-local (RFC 5798 5.2.9); adverts use the interface's link-local source", "instance", ic.Name)
		}
		w, err := vip.NewWorker(ic.VIPSpec(), opts.Kernel, opts.Announcer, m.log.With("instance", ic.Name))
		if err != nil {
			return nil, fmt.Errorf("vrrp instance %q: %w", ic.Name, err)
		}
		m.workers = append(m.workers, w)
		g := group[ic.Name]
		r := byGroup[g]
		if r == nil || g == "" {
			r = newRunner(g, nil, m.log, opts.Now, m.emit)
			m.runners = append(m.runners, r)
			if g != "" {
				byGroup[g] = r
			}
		}
		mb, err := newMember(len(r.members), ic, w)
		if err != nil {
			return nil, err
		}
		r.members = append(r.members, mb)
		m.byName[ic.Name] = r
		k := ic.sockKey()
		m.users[k] = append(m.users[k], user{r: r, idx: mb.idx, vrid: ic.VRID})
	}
	return m, nil
}

func (m *Manager) emit(e Event) {
	if m.opts.Events == nil {
		return
	}
	select {
	case m.opts.Events <- e:
	default:
		m.eventsDropped.Add(1)
	}
}

// EventsDropped counts events lost to a full Events channel.
func (m *Manager) EventsDropped() uint64 { return m.eventsDropped.Load() }

// Run starts every instance and runs until ctx ends; then masters send
// priority 0, every address is released and the sockets are closed. It
// returns an error only if the link watcher failed for good.
func (m *Manager) Run(ctx context.Context) error {
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	var wg sync.WaitGroup
	for _, w := range m.workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(wctx) }()
	}
	for _, r := range m.runners {
		go r.run()
	}
	lctx, lcancel := context.WithCancel(ctx)
	linkErr := make(chan error, 1)
	go func() { linkErr <- m.opts.Links.Watch(lctx, m.onFacts) }()
	retry := time.NewTicker(2 * time.Second)
	defer retry.Stop()
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-linkErr:
			if err != nil {
				err = fmt.Errorf("vrrp: link watcher: %w", err)
			}
			linkErr = nil
			break loop
		case <-retry.C:
			m.retryOpens()
		}
	}
	// Stop: priority 0 first (sockets still open), then release addresses.
	for _, r := range m.runners {
		close(r.stop)
	}
	for _, r := range m.runners {
		<-r.done
	}
	lcancel()
	if linkErr != nil {
		<-linkErr
	}
	rctx, rcancel := context.WithTimeout(context.Background(), m.opts.ReleaseTimeout)
	defer rcancel()
	var errs []error
	for _, w := range m.workers {
		errs = append(errs, w.Close(rctx))
	}
	wcancel()
	wg.Wait()
	m.mu.Lock()
	for k, s := range m.socks {
		m.closeSock(s)
		delete(m.socks, k)
	}
	m.mu.Unlock()
	if c, ok := m.opts.Announcer.(interface{ Close() error }); ok {
		_ = c.Close()
	}
	return errors.Join(append(errs, err)...)
}

// onFacts (re)opens sockets for interfaces that appeared or changed index,
// and hands the facts to the runners.
func (m *Manager) onFacts(f Facts) {
	m.mu.Lock()
	m.facts = f
	conns := m.syncSocks(f)
	m.mu.Unlock()
	for _, r := range m.runners {
		r.setFacts(f, conns)
	}
}

func (m *Manager) retryOpens() {
	m.mu.Lock()
	if len(m.openErrs) == 0 || m.facts == nil {
		m.mu.Unlock()
		return
	}
	f := m.facts
	m.mu.Unlock()
	m.onFacts(f)
}

// syncSocks needs m.mu.
func (m *Manager) syncSocks(f Facts) map[sockKey]vrnet.Conn {
	conns := map[sockKey]vrnet.Conn{}
	for k, users := range m.users {
		l, ok := f[k.ifname]
		s := m.socks[k]
		if s != nil && (!ok || s.index != l.Index) {
			m.closeSock(s)
			delete(m.socks, k)
			s = nil
		}
		if !ok {
			continue
		}
		if s == nil {
			conn, err := m.opts.Open(k.ifname, k.fam)
			if err != nil {
				if m.openErrs[k] == nil {
					m.log.Warn("vrrp: socket", "interface", k.ifname, "family", k.fam, "err", err)
				}
				m.openErrs[k] = err
				continue
			}
			delete(m.openErrs, k)
			s = &sock{conn: conn, demux: vrnet.NewDemux(conn, l.Index), index: l.Index, done: make(chan struct{})}
			for _, u := range users {
				if _, err := s.demux.Register(u.vrid, u.r.deliver(u.idx)); err != nil {
					m.log.Error("vrrp: register", "err", err)
				}
			}
			go func() {
				defer close(s.done)
				if err := s.demux.Run(); err != nil {
					m.log.Error("vrrp: socket reader", "interface", k.ifname, "family", k.fam, "err", err)
				}
			}()
			m.socks[k] = s
		}
		conns[k] = s.conn
	}
	return conns
}

func (m *Manager) closeSock(s *sock) {
	_ = s.conn.Close()
	<-s.done
}

// SetPriorityDelta sets the priority delta that source (a health check, a
// quorum) applies to an instance; 0 removes it. Deltas of all sources and
// tracked interfaces add up (vrrp.EffectivePriority clamps the result).
func (m *Manager) SetPriorityDelta(instance, source string, delta int) error {
	r := m.byName[instance]
	if r == nil {
		return fmt.Errorf("vrrp: no instance %q", instance)
	}
	r.setDelta(instance, source, delta)
	return nil
}

// ErrRestartNeeded is returned by Update for a change that cannot be applied
// live (see RestartReason): the caller restarts the instance.
var ErrRestartNeeded = errors.New("vrrp: change needs a restart of the instance")

// Update applies a new configuration of the instance ic.Name live, without
// a re-election or a flap of the virtual addresses that stay: a master adds
// the new addresses and routes (and announces them) and removes the dropped
// ones, a backup just keeps them for later; a master sends the new advert
// interval from its next advert (v3 backups learn it); tracked interfaces,
// preempt settings and non-owner priorities take effect at once. It returns
// ErrRestartNeeded (wrapped with the reason) when RestartReason is not
// empty, and does not wait for the protocol goroutine.
func (m *Manager) Update(ic InstanceConfig) error {
	r := m.byName[ic.Name]
	if r == nil {
		return fmt.Errorf("vrrp: no instance %q", ic.Name)
	}
	if err := ic.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.cfg.Instances, func(c InstanceConfig) bool { return c.Name == ic.Name })
	if why := RestartReason(m.cfg.Instances[i], ic); why != "" {
		return fmt.Errorf("vrrp instance %q: %w: %s changed", ic.Name, ErrRestartNeeded, why)
	}
	m.cfg.Instances[i] = ic
	r.setUpdate(ic)
	return nil
}

// SetFault sets (faulted) or clears the external fault that source (a
// tracked service or script with weight 0) puts on an instance: while any
// source is faulted the instance is in FAULT (a master sends priority 0 and
// releases its addresses; a sync group follows), like a tracked interface
// of weight 0 that is down.
func (m *Manager) SetFault(instance, source string, faulted bool, reason string) error {
	r := m.byName[instance]
	if r == nil {
		return fmt.Errorf("vrrp: no instance %q", instance)
	}
	r.setFault(instance, source, faulted, reason)
	return nil
}

// Snapshot returns the status of every instance in config order.
func (m *Manager) Snapshot() []InstanceStatus {
	var out []InstanceStatus
	seen := map[*runner]bool{}
	for _, r := range m.runners {
		if !seen[r] {
			seen[r] = true
			out = append(out, r.snapshot()...)
		}
	}
	return out
}

// Sockets returns the socket counters.
func (m *Manager) Sockets() []SocketStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SocketStatus
	for k := range m.users {
		st := SocketStatus{Interface: k.ifname, Family: k.fam.String()}
		if s := m.socks[k]; s != nil {
			st.Open, st.Stats = true, s.demux.Stats()
		}
		if err := m.openErrs[k]; err != nil {
			st.Error = err.Error()
		}
		out = append(out, st)
	}
	return out
}
