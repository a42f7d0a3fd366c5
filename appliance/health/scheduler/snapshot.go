package scheduler

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/state"
)

// ProbeStatus is the visible state of one probe.
type ProbeStatus struct {
	Key         health.Key
	Type        health.Type
	Target      netip.AddrPort
	Spec        health.Spec
	Subscribers []string // sorted subscription IDs
	Next        time.Time
	Running     bool
	Skipped     uint64 // rounds skipped because the previous round overran
	state.Status
}

// SubscriptionStatus is the visible state of one real server's check; the state is
// its probe's.
type SubscriptionStatus struct {
	ID      string
	Service string
	Server  netip.AddrPort
	Probe   health.Key
	Type    health.Type
	Target  netip.AddrPort
	Shared  int // subscriptions sharing the probe (1: not shared)
	state.Status
}

// Snapshot is the visible state of every probe and subscription, sorted.
type Snapshot struct {
	At            time.Time
	Probes        []ProbeStatus        // by type, target, key
	Subscriptions []SubscriptionStatus // by ID
}

// Snapshot returns the state as of now.
func (c *Core) Snapshot(now time.Time) Snapshot {
	s := Snapshot{At: now}
	st := make(map[*probe]state.Status, len(c.probes))
	for _, p := range c.probes {
		ps := p.tracker.Status(now)
		st[p] = ps
		s.Probes = append(s.Probes, ProbeStatus{
			Key: p.key, Type: p.spec.Type, Target: p.target, Spec: p.spec,
			Subscribers: sortedKeys(p.subs), Next: p.next, Running: p.running, Skipped: p.skipped,
			Status: ps,
		})
	}
	slices.SortFunc(s.Probes, func(a, b ProbeStatus) int {
		if c := strings.Compare(string(a.Type), string(b.Type)); c != 0 {
			return c
		}
		if c := a.Target.Compare(b.Target); c != 0 {
			return c
		}
		return strings.Compare(string(a.Key), string(b.Key))
	})
	for _, sub := range c.subs {
		p := sub.probe
		s.Subscriptions = append(s.Subscriptions, SubscriptionStatus{
			ID: sub.ID, Service: sub.Service, Server: sub.Server,
			Probe: p.key, Type: p.spec.Type, Target: p.target, Shared: len(p.subs),
			Status: st[p],
		})
	}
	slices.SortFunc(s.Subscriptions, func(a, b SubscriptionStatus) int { return strings.Compare(a.ID, b.ID) })
	return s
}

// Health is what the service level needs of one subscription.
type Health struct {
	Up        bool
	Weight    int // misc_dynamic weight, valid when HasWeight
	HasWeight bool
}

// Health returns the state of subscription id.
func (c *Core) Health(id string) (Health, bool) {
	sub, ok := c.subs[id]
	if !ok {
		return Health{}, false
	}
	w, set := sub.probe.tracker.Weight()
	return Health{Up: sub.probe.tracker.Up(), Weight: w, HasWeight: set}, true
}

// Len returns the number of subscriptions and probes.
func (c *Core) Len() (subscriptions, probes int) { return len(c.subs), len(c.probes) }
