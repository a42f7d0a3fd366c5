package ipvs

import (
	"fmt"
	"slices"
	"strings"
)

// OpKind is the kind of one kernel write.
type OpKind uint8

// Kernel write kinds.
const (
	AddService OpKind = iota
	UpdateService
	DeleteService
	AddDestination
	UpdateDestination
	DeleteDestination
)

func (k OpKind) String() string {
	return [...]string{"add service", "update service", "delete service",
		"add destination", "update destination", "delete destination"}[k]
}

// Op is one kernel write. Service is complete for AddService and UpdateService; for
// the other kinds only Service.Key matters. Dest is set for destination kinds. Old and
// OldDest hold the observed object for updates (used to describe the change).
type Op struct {
	Kind    OpKind
	Service Service
	Dest    Destination
	Old     Service
	OldDest Destination
}

func (o Op) String() string {
	switch o.Kind {
	case AddService:
		return fmt.Sprintf("add service %s (%s)", o.Service.Key, o.Service.Scheduler)
	case UpdateService:
		return fmt.Sprintf("update service %s (%s)", o.Service.Key, serviceChange(o.Old, o.Service))
	case DeleteService:
		return fmt.Sprintf("delete service %s", o.Service.Key)
	case AddDestination:
		return fmt.Sprintf("add destination %s to %s (%s, weight %d)", o.Dest.Key, o.Service.Key, o.Dest.Forwarding, o.Dest.Weight)
	case UpdateDestination:
		return fmt.Sprintf("update destination %s of %s (%s)", o.Dest.Key, o.Service.Key, destChange(o.OldDest, o.Dest))
	case DeleteDestination:
		return fmt.Sprintf("delete destination %s from %s", o.Dest.Key, o.Service.Key)
	}
	return "unknown op"
}

func serviceChange(a, b Service) string {
	var ch []string
	if a.Scheduler != b.Scheduler {
		ch = append(ch, fmt.Sprintf("scheduler %s->%s", a.Scheduler, b.Scheduler))
	}
	if a.Flags != b.Flags {
		ch = append(ch, fmt.Sprintf("flags %#x->%#x", a.Flags, b.Flags))
	}
	if a.Timeout != b.Timeout {
		ch = append(ch, fmt.Sprintf("timeout %d->%d", a.Timeout, b.Timeout))
	}
	if a.Netmask != b.Netmask {
		ch = append(ch, fmt.Sprintf("netmask /%d->/%d", a.Netmask, b.Netmask))
	}
	if a.PE != b.PE {
		ch = append(ch, fmt.Sprintf("persistence engine %q->%q", a.PE, b.PE))
	}
	return strings.Join(ch, ", ")
}

func destChange(a, b Destination) string {
	var ch []string
	if a.Forwarding != b.Forwarding {
		ch = append(ch, fmt.Sprintf("forwarding %s->%s", a.Forwarding, b.Forwarding))
	}
	if a.Weight != b.Weight {
		ch = append(ch, fmt.Sprintf("weight %d->%d", a.Weight, b.Weight))
	}
	if a.UpperThreshold != b.UpperThreshold {
		ch = append(ch, fmt.Sprintf("upper threshold %d->%d", a.UpperThreshold, b.UpperThreshold))
	}
	if a.LowerThreshold != b.LowerThreshold {
		ch = append(ch, fmt.Sprintf("lower threshold %d->%d", a.LowerThreshold, b.LowerThreshold))
	}
	if a.TunnelType != b.TunnelType || a.TunnelPort != b.TunnelPort || a.TunnelFlags != b.TunnelFlags {
		ch = append(ch, fmt.Sprintf("tunnel %s/%d/%#x->%s/%d/%#x", a.TunnelType, a.TunnelPort, a.TunnelFlags, b.TunnelType, b.TunnelPort, b.TunnelFlags))
	}
	return strings.Join(ch, ", ")
}

// Diff returns the minimal ordered list of writes that turns observed into desired.
// Objects are matched by key; an object whose key matches is updated in place, never
// deleted and re-added. Equal states give no ops. Order: per desired service (sorted by
// key) add or update it, then add, update and delete its destinations (adds first, so
// that replacing a real server never leaves the service empty); finally delete the
// services that are not desired. Diff is pure; keys must be unique within each input.
func Diff(desired, observed []ServiceState) []Op {
	obs := make(map[ServiceKey]*ServiceState, len(observed))
	for i := range observed {
		obs[observed[i].Key] = &observed[i]
	}
	want := make(map[ServiceKey]bool, len(desired))

	var ops []Op
	for _, d := range sortedServices(desired) {
		want[d.Key] = true
		o, ok := obs[d.Key]
		if !ok {
			ops = append(ops, Op{Kind: AddService, Service: d.Service})
			for _, dst := range sortedDests(d.Destinations) {
				ops = append(ops, Op{Kind: AddDestination, Service: d.Service, Dest: dst})
			}
			continue
		}
		if !d.settingsEqual(o.Service) {
			ops = append(ops, Op{Kind: UpdateService, Service: d.Service, Old: o.Service})
		}
		ops = append(ops, diffDests(d.Service, d.Destinations, o.Destinations)...)
	}
	for _, o := range sortedServices(observed) {
		if !want[o.Key] {
			ops = append(ops, Op{Kind: DeleteService, Service: o.Service})
		}
	}
	return ops
}

func diffDests(svc Service, desired, observed []Destination) []Op {
	obs := make(map[DestinationKey]Destination, len(observed))
	for _, o := range observed {
		obs[o.Key] = o
	}
	var adds, updates, deletes []Op
	want := make(map[DestinationKey]bool, len(desired))
	for _, d := range sortedDests(desired) {
		want[d.Key] = true
		o, ok := obs[d.Key]
		switch {
		case !ok:
			adds = append(adds, Op{Kind: AddDestination, Service: svc, Dest: d})
		case !d.settingsEqual(o):
			updates = append(updates, Op{Kind: UpdateDestination, Service: svc, Dest: d, OldDest: o})
		}
	}
	for _, o := range sortedDests(observed) {
		if !want[o.Key] {
			deletes = append(deletes, Op{Kind: DeleteDestination, Service: svc, Dest: o})
		}
	}
	return slices.Concat(adds, updates, deletes)
}

func sortedServices(in []ServiceState) []ServiceState {
	return slices.SortedFunc(slices.Values(in), func(a, b ServiceState) int { return a.Key.Compare(b.Key) })
}

func sortedDests(in []Destination) []Destination {
	return slices.SortedFunc(slices.Values(in), func(a, b Destination) int { return a.Key.Compare(b.Key) })
}
