package ipvstest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// Fake is an in-memory IPVS table. It is safe for concurrent use.
type Fake struct {
	mu       sync.Mutex
	svcs     map[ipvs.ServiceKey]*ipvs.ServiceState
	writes   []string
	fail     func(op string, k ipvs.ServiceKey) error
	unavail  error
	lists    int
	timeouts ipvs.Timeouts
	daemons  []ipvs.SyncDaemon
}

// New returns an empty Fake with the kernel's default timeouts.
func New() *Fake {
	return &Fake{svcs: map[ipvs.ServiceKey]*ipvs.ServiceState{},
		timeouts: ipvs.Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}}
}

// Writes returns the writes made so far, as "op key[ dest]" strings.
func (f *Fake) Writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.writes)
}

// ResetWrites forgets the recorded writes.
func (f *Fake) ResetWrites() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = nil
}

// Lists is the number of Services calls made.
func (f *Fake) Lists() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

// FailWith makes every write for which fn returns non-nil fail with that error; op is
// the ipvs.OpKind string ("add service", ...). nil removes the fault.
func (f *Fake) FailWith(fn func(op string, k ipvs.ServiceKey) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

// SetUnavailable makes every call fail with err (nil restores the table).
func (f *Fake) SetUnavailable(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unavail = err
}

// Flush empties the table behind the daemon's back, like `ipvsadm -C`.
func (f *Fake) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.svcs = map[ipvs.ServiceKey]*ipvs.ServiceState{}
}

// Seed puts states into the table without counting writes (a kernel programmed by an
// earlier process).
func (f *Fake) Seed(states ...ipvs.ServiceState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range states {
		c := s
		c.Destinations = slices.Clone(s.Destinations)
		f.svcs[s.Key] = &c
	}
}

// Services implements ipvs.Kernel.
func (f *Fake) Services(context.Context) ([]ipvs.ServiceState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unavail != nil {
		return nil, f.unavail
	}
	f.lists++
	out := make([]ipvs.ServiceState, 0, len(f.svcs))
	for _, s := range f.svcs {
		c := *s
		c.Destinations = slices.Clone(s.Destinations)
		out = append(out, c)
	}
	return out, nil
}

// Get returns one service's state as the fake holds it.
func (f *Fake) Get(k ipvs.ServiceKey) (ipvs.ServiceState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.svcs[k]
	if !ok {
		return ipvs.ServiceState{}, false
	}
	c := *s
	c.Destinations = slices.Clone(s.Destinations)
	return c, true
}

// write records a write and applies fault injection; it returns the error to give.
func (f *Fake) write(op ipvs.OpKind, k ipvs.ServiceKey, extra string) error {
	if f.unavail != nil {
		return f.unavail
	}
	f.writes = append(f.writes, fmt.Sprintf("%s %s%s", op, k, extra))
	if f.fail != nil {
		return f.fail(op.String(), k)
	}
	return nil
}

// AddService implements ipvs.Kernel.
func (f *Fake) AddService(_ context.Context, s ipvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(ipvs.AddService, s.Key, ""); err != nil {
		return err
	}
	if _, ok := f.svcs[s.Key]; ok {
		return syscall.EEXIST
	}
	f.svcs[s.Key] = &ipvs.ServiceState{Service: s}
	return nil
}

// UpdateService implements ipvs.Kernel.
func (f *Fake) UpdateService(_ context.Context, s ipvs.Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(ipvs.UpdateService, s.Key, ""); err != nil {
		return err
	}
	cur, ok := f.svcs[s.Key]
	if !ok {
		return syscall.ESRCH
	}
	cur.Service = s
	return nil
}

// DeleteService implements ipvs.Kernel.
func (f *Fake) DeleteService(_ context.Context, k ipvs.ServiceKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(ipvs.DeleteService, k, ""); err != nil {
		return err
	}
	if _, ok := f.svcs[k]; !ok {
		return syscall.ESRCH
	}
	delete(f.svcs, k)
	return nil
}

func (f *Fake) dest(k ipvs.ServiceKey, d ipvs.DestinationKey) (*ipvs.ServiceState, int, error) {
	s, ok := f.svcs[k]
	if !ok {
		return nil, -1, syscall.ESRCH
	}
	return s, slices.IndexFunc(s.Destinations, func(x ipvs.Destination) bool { return x.Key == d }), nil
}

// AddDestination implements ipvs.Kernel.
func (f *Fake) AddDestination(_ context.Context, k ipvs.ServiceKey, d ipvs.Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(ipvs.AddDestination, k, " "+d.Key.String()); err != nil {
		return err
	}
	s, i, err := f.dest(k, d.Key)
	if err != nil {
		return err
	}
	if i >= 0 {
		return syscall.EEXIST
	}
	s.Destinations = append(s.Destinations, d)
	return nil
}

// UpdateDestination implements ipvs.Kernel.
func (f *Fake) UpdateDestination(_ context.Context, k ipvs.ServiceKey, d ipvs.Destination) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(ipvs.UpdateDestination, k, " "+d.Key.String()); err != nil {
		return err
	}
	s, i, err := f.dest(k, d.Key)
	if err != nil {
		return err
	}
	if i < 0 {
		return syscall.ENOENT
	}
	s.Destinations[i] = d
	return nil
}

// DeleteDestination implements ipvs.Kernel.
func (f *Fake) DeleteDestination(_ context.Context, k ipvs.ServiceKey, d ipvs.DestinationKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(ipvs.DeleteDestination, k, " "+d.String()); err != nil {
		return err
	}
	s, i, err := f.dest(k, d)
	if err != nil {
		return err
	}
	if i < 0 {
		return syscall.ENOENT
	}
	s.Destinations = slices.Delete(s.Destinations, i, i+1)
	return nil
}

// Service implements ipvs.ServiceReader.
func (f *Fake) Service(_ context.Context, k ipvs.ServiceKey) (ipvs.ServiceState, bool, error) {
	f.mu.Lock()
	unavail := f.unavail
	f.mu.Unlock()
	if unavail != nil {
		return ipvs.ServiceState{}, false, unavail
	}
	s, ok := f.Get(k)
	return s, ok, nil
}

// Info implements ipvs.Globals.
func (f *Fake) Info(context.Context) (ipvs.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unavail != nil {
		return ipvs.Info{}, f.unavail
	}
	return ipvs.Info{Version: "1.2.1", ConnTabSize: 4096}, nil
}

// Timeouts implements ipvs.Globals.
func (f *Fake) Timeouts(context.Context) (ipvs.Timeouts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unavail != nil {
		return ipvs.Timeouts{}, f.unavail
	}
	return f.timeouts, nil
}

// SetTimeouts implements ipvs.Globals (recorded as the write "set timeouts").
func (f *Fake) SetTimeouts(_ context.Context, t ipvs.Timeouts) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unavail != nil {
		return f.unavail
	}
	f.writes = append(f.writes, fmt.Sprintf("set timeouts %v/%v/%v", t.TCP, t.TCPFin, t.UDP))
	for _, p := range [][2]*time.Duration{{&f.timeouts.TCP, &t.TCP}, {&f.timeouts.TCPFin, &t.TCPFin}, {&f.timeouts.UDP, &t.UDP}} {
		if *p[1] >= time.Second {
			*p[0] = p[1].Truncate(time.Second)
		}
	}
	return nil
}

// SyncDaemons implements ipvs.Globals.
func (f *Fake) SyncDaemons(context.Context) ([]ipvs.SyncDaemon, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unavail != nil {
		return nil, f.unavail
	}
	return slices.Clone(f.daemons), nil
}

// StartSyncDaemon implements ipvs.Globals: EEXIST if one of that state runs.
func (f *Fake) StartSyncDaemon(_ context.Context, d ipvs.SyncDaemon) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unavail != nil {
		return f.unavail
	}
	f.writes = append(f.writes, fmt.Sprintf("start sync daemon %s %s %d", d.State, d.Interface, d.SyncID))
	if slices.ContainsFunc(f.daemons, func(x ipvs.SyncDaemon) bool { return x.State == d.State }) {
		return syscall.EEXIST
	}
	f.daemons = append(f.daemons, d)
	return nil
}

// StopSyncDaemon implements ipvs.Globals: ESRCH if none of that state runs.
func (f *Fake) StopSyncDaemon(_ context.Context, s ipvs.SyncState) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unavail != nil {
		return f.unavail
	}
	f.writes = append(f.writes, fmt.Sprintf("stop sync daemon %s", s))
	i := slices.IndexFunc(f.daemons, func(x ipvs.SyncDaemon) bool { return x.State == s })
	if i < 0 {
		return syscall.ESRCH
	}
	f.daemons = slices.Delete(f.daemons, i, i+1)
	return nil
}

var (
	_ ipvs.Kernel        = (*Fake)(nil)
	_ ipvs.ServiceReader = (*Fake)(nil)
	_ ipvs.Globals       = (*Fake)(nil)
)
