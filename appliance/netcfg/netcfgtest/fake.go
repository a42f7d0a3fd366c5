package netcfgtest

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"syscall"

	"github.com/lvsbox/lvsbox/appliance/netcfg"
)

// Host is an in-memory netcfg.Host. It is safe for concurrent use.
type Host struct {
	mu     sync.Mutex
	links  map[string]*netcfg.LinkState
	routes []netcfg.Route
	writes []string
	fail   map[string]error
}

// NewHost returns a host with the named links, all down and without addresses.
func NewHost(links ...string) *Host {
	h := &Host{links: map[string]*netcfg.LinkState{}, fail: map[string]error{}}
	for _, l := range links {
		h.links[l] = &netcfg.LinkState{Name: l, Exists: true}
	}
	return h
}

// Writes returns the writes made so far as op strings.
func (h *Host) Writes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.writes)
}

// ResetWrites forgets recorded writes.
func (h *Host) ResetWrites() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.writes = nil
}

// Fail makes the write whose op string is w fail with err (nil clears it).
func (h *Host) Fail(w string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		delete(h.fail, w)
	} else {
		h.fail[w] = err
	}
}

// AddForeignAddress puts an address on a link as if someone else had added it.
func (h *Host) AddForeignAddress(link string, p netip.Prefix) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[link]
	l.Addresses = append(l.Addresses, p)
}

// RemoveAddress deletes an address behind the daemon's back.
func (h *Host) RemoveAddress(link string, p netip.Prefix) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.links[link]
	l.Addresses = slices.DeleteFunc(l.Addresses, func(x netip.Prefix) bool { return x == p })
}

// AddForeignRoute adds a route as if someone else had.
func (h *Host) AddForeignRoute(r netcfg.Route) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.routes = append(h.routes, r)
}

// State returns a copy of a link's state.
func (h *Host) State(link string) netcfg.LinkState {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.links[link]
	if !ok {
		return netcfg.LinkState{Name: link}
	}
	c := *l
	c.Addresses = slices.Clone(l.Addresses)
	return c
}

// RouteTable returns a copy of the routes.
func (h *Host) RouteTable() []netcfg.Route {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.routes)
}

func (h *Host) write(w string) error {
	h.writes = append(h.writes, w)
	return h.fail[w]
}

// Link implements netcfg.Host.
func (h *Host) Link(_ context.Context, name string) (netcfg.LinkState, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.links[name]
	if !ok {
		return netcfg.LinkState{Name: name}, nil
	}
	c := *l
	c.Addresses = slices.Clone(l.Addresses)
	return c, nil
}

// SetLinkUp implements netcfg.Host.
func (h *Host) SetLinkUp(_ context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.write("set link up " + name); err != nil {
		return err
	}
	l, ok := h.links[name]
	if !ok {
		return syscall.ENODEV
	}
	l.Up = true
	return nil
}

// AddAddress implements netcfg.Host.
func (h *Host) AddAddress(_ context.Context, a netcfg.Address) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.write("add address " + a.String()); err != nil {
		return err
	}
	l, ok := h.links[a.Link]
	if !ok {
		return syscall.ENODEV
	}
	if slices.Contains(l.Addresses, a.Prefix) {
		return syscall.EEXIST
	}
	l.Addresses = append(l.Addresses, a.Prefix)
	return nil
}

// DeleteAddress implements netcfg.Host.
func (h *Host) DeleteAddress(_ context.Context, a netcfg.Address) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.write("delete address " + a.String()); err != nil {
		return err
	}
	if l, ok := h.links[a.Link]; ok {
		l.Addresses = slices.DeleteFunc(l.Addresses, func(x netip.Prefix) bool { return x == a.Prefix })
	}
	return nil
}

// Routes implements netcfg.Host.
func (h *Host) Routes(context.Context) ([]netcfg.Route, error) {
	return h.RouteTable(), nil
}

// AddRoute implements netcfg.Host.
func (h *Host) AddRoute(_ context.Context, r netcfg.Route) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.write("add route " + r.String()); err != nil {
		return err
	}
	if slices.Contains(h.routes, r) {
		return syscall.EEXIST
	}
	h.routes = append(h.routes, r)
	return nil
}

// DeleteRoute implements netcfg.Host.
func (h *Host) DeleteRoute(_ context.Context, r netcfg.Route) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.write("delete route " + r.String()); err != nil {
		return err
	}
	h.routes = slices.DeleteFunc(h.routes, func(x netcfg.Route) bool { return x == r })
	return nil
}

// UTS is an in-memory netcfg.UTS.
type UTS struct {
	mu   sync.Mutex
	Name string
}

// Hostname implements netcfg.UTS.
func (u *UTS) Hostname() (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.Name, nil
}

// SetHostname implements netcfg.UTS.
func (u *UTS) SetHostname(name string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.Name = name
	return nil
}

var (
	_ netcfg.Host = (*Host)(nil)
	_ netcfg.UTS  = (*UTS)(nil)
)
