package viptest

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
)

// Kernel is an in-memory host: links by name with address lists and routes.
type Kernel struct {
	mu      sync.Mutex
	links   map[string]*link
	routes  map[string]bool
	nextIdx int
	failAdd error
}

type link struct {
	info  vip.LinkInfo
	addrs []netip.Prefix
}

// NewKernel returns a host with one interface, name, holding addrs.
func NewKernel(name string, mac net.HardwareAddr, addrs ...string) *Kernel {
	k := &Kernel{links: map[string]*link{}, routes: map[string]bool{}, nextIdx: 10}
	l := &link{info: vip.LinkInfo{Index: 2, MAC: mac}}
	for _, a := range addrs {
		l.addrs = append(l.addrs, netip.MustParsePrefix(a))
	}
	k.links[name] = l
	return k
}

// FailAdd makes AddAddr fail with err (nil: succeed again).
func (k *Kernel) FailAdd(err error) {
	k.mu.Lock()
	k.failAdd = err
	k.mu.Unlock()
}

func (k *Kernel) byIndex(i int) *link {
	for _, l := range k.links {
		if l.info.Index == i {
			return l
		}
	}
	return nil
}

// Link implements vip.Kernel.
func (k *Kernel) Link(name string) (vip.LinkInfo, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.links[name]; l != nil {
		return l.info, nil
	}
	return vip.LinkInfo{}, fmt.Errorf("%s: %w", name, vip.ErrNoLink)
}

// EnsureVMAC implements vip.Kernel.
func (k *Kernel) EnsureVMAC(v vip.VMAC) (vip.LinkInfo, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.links[v.Name]; l != nil {
		return l.info, nil
	}
	k.nextIdx++
	l := &link{info: vip.LinkInfo{Index: k.nextIdx, MAC: v.MAC}}
	if p := k.links[v.Parent]; v.IPv6 && p != nil {
		if ll, ok := vip.LinkLocal(p.addrs); ok {
			l.addrs = append(l.addrs, netip.PrefixFrom(ll, 64))
		}
	}
	k.links[v.Name] = l
	return l.info, nil
}

// DeleteLink implements vip.Kernel.
func (k *Kernel) DeleteLink(name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.links[name] == nil {
		return vip.ErrNoLink
	}
	delete(k.links, name)
	return nil
}

// Addrs implements vip.Kernel.
func (k *Kernel) Addrs(i int) ([]netip.Prefix, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.byIndex(i); l != nil {
		return slices.Clone(l.addrs), nil
	}
	return nil, vip.ErrNoLink
}

// AddAddr implements vip.Kernel.
func (k *Kernel) AddAddr(i int, p netip.Prefix) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failAdd != nil {
		return k.failAdd
	}
	l := k.byIndex(i)
	if l == nil {
		return vip.ErrNoLink
	}
	l.addrs = append(l.addrs, p)
	return nil
}

// DelAddr implements vip.Kernel.
func (k *Kernel) DelAddr(i int, p netip.Prefix) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.byIndex(i); l != nil {
		l.addrs = slices.DeleteFunc(l.addrs, func(e netip.Prefix) bool { return e == p })
	}
	return nil
}

// ReplaceRoute implements vip.Kernel.
func (k *Kernel) ReplaceRoute(_ int, r vip.Route) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.routes[r.String()] = true
	return nil
}

// DelRoute implements vip.Kernel.
func (k *Kernel) DelRoute(_ int, r vip.Route) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.routes, r.String())
	return nil
}

// Has reports whether dev holds the address prefix p.
func (k *Kernel) Has(dev, p string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.links[dev]
	return l != nil && slices.Contains(l.addrs, netip.MustParsePrefix(p))
}

// Routes lists the routes held (ip-route form).
func (k *Kernel) Routes() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for r := range k.routes {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Announcer records announcements.
type Announcer struct {
	mu   sync.Mutex
	sent []string
	at   []time.Time
}

// GARP implements vip.Announcer.
func (a *Announcer) GARP(i int, mac net.HardwareAddr, ip netip.Addr) error {
	a.add(fmt.Sprintf("garp %d %v %v", i, mac, ip))
	return nil
}

// NA implements vip.Announcer.
func (a *Announcer) NA(i int, mac net.HardwareAddr, src, target netip.Addr) error {
	a.add(fmt.Sprintf("na %d %v %v %v", i, mac, src, target))
	return nil
}

func (a *Announcer) add(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent = append(a.sent, s)
	a.at = append(a.at, time.Now())
}

// Sent returns the announcements so far and when each was sent.
func (a *Announcer) Sent() ([]string, []time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.sent), slices.Clone(a.at)
}

// Count is the number of announcements so far.
func (a *Announcer) Count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sent)
}
