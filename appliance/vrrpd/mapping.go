package vrrpd

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
)

// Track is an external tracking input of one instance: a virtual service's
// health (healthd) or a vrrp_script's result.
type Track struct {
	Kind   string // "service" or "script"
	Name   string
	Weight int // 0: FAULT while down (node.Manager.SetFault, keepalived's semantics)
}

// Unit is what one node.Manager runs: one instance, or a sync group.
type Unit struct {
	Key    string // "instance/<name>" or "group/<name>"
	Config node.Config
	Tracks map[string][]Track // by instance
}

// Plan is the mapped VRRP part of a configuration.
type Plan struct {
	Units   []Unit
	Scripts map[string]config.VRRPScript // tracked scripts by name
	// Errors are instances that cannot run (they are left out), Warnings
	// settings that are not honoured.
	Errors, Warnings []string
}

// MapInstance maps one (defaulted) instance.
func MapInstance(in config.VRRPInstance) (node.InstanceConfig, []Track, []string, error) {
	var warn []string
	ic := node.InstanceConfig{
		Name: in.Name, Interface: in.Interface, Version: uint8(in.Version), VRID: uint8(in.VRID),
		Priority: uint8(in.Priority), AdvertInterval: time.Duration(in.AdvertInterval),
		NoPreempt: !in.Preempts(), PreemptDelay: time.Duration(in.PreemptDelay), AcceptMode: in.Accept,
		AuthPass: in.AuthPass, VMAC: in.VMAC,
		Announce: vip.Announce{Count: in.GARP.Count, Spacing: time.Duration(in.GARP.Interval), Refresh: time.Duration(in.GARP.Refresh)},
	}
	if in.AuthPass != "" {
		ic.AuthType = vrrp.AuthPass
	}
	if in.Unicast {
		ic.UnicastPeers = slices.Clone(in.UnicastPeers)
		ic.SourceAddr = in.UnicastSource
	}
	for _, va := range in.VirtualAddresses {
		if va.Device != "" && va.Device != in.Interface {
			return ic, nil, warn, fmt.Errorf("vrrp instance %q: virtual address %v on device %s: only the instance's interface %s is supported",
				in.Name, va.Address, va.Device, in.Interface)
		}
		ic.VIPs = append(ic.VIPs, va.Address)
	}
	for _, r := range in.VirtualRoutes {
		if r.Device != "" && r.Device != in.Interface {
			return ic, nil, warn, fmt.Errorf("vrrp instance %q: virtual route %v via device %s: only the instance's interface %s is supported",
				in.Name, r.Destination, r.Device, in.Interface)
		}
		table := int(r.Table)
		if table == config.TableMain {
			table = 0
		}
		ic.Routes = append(ic.Routes, vip.Route{Dst: r.Destination, Gateway: r.Gateway, Metric: int(r.Metric), Table: table})
	}
	for _, t := range in.TrackInterfaces {
		ic.TrackInterfaces = append(ic.TrackInterfaces, node.TrackInterface{Name: t.Interface, Weight: t.Weight})
	}
	var tracks []Track
	for _, t := range in.TrackServices {
		tracks = append(tracks, Track{Kind: "service", Name: t.Service, Weight: t.Weight})
	}
	for _, t := range in.TrackScripts {
		tracks = append(tracks, Track{Kind: "script", Name: t.Script, Weight: t.Weight})
	}
	ic.InitialMaster = in.InitialState == config.InitialMaster
	if err := ic.Validate(); err != nil {
		return ic, nil, warn, err
	}
	return ic, tracks, warn, nil
}

// Map maps the VRRP part of cfg into units: each sync group is one unit,
// every other instance its own.
func Map(cfg config.Config) Plan {
	cfg = cfg.WithDefaults()
	p := Plan{Scripts: map[string]config.VRRPScript{}}
	type mapped struct {
		ic     node.InstanceConfig
		tracks []Track
	}
	ok := map[string]mapped{}
	var order []string
	for _, in := range cfg.VRRPInstances {
		ic, tracks, warn, err := MapInstance(in)
		p.Warnings = append(p.Warnings, warn...)
		if err != nil {
			p.Errors = append(p.Errors, err.Error())
			continue
		}
		ok[in.Name] = mapped{ic, tracks}
		order = append(order, in.Name)
	}
	scripts := map[string]config.VRRPScript{}
	for _, s := range cfg.VRRPScripts {
		scripts[s.Name] = s
	}
	add := func(u *Unit, name string) {
		m := ok[name]
		u.Config.Instances = append(u.Config.Instances, m.ic)
		if len(m.tracks) > 0 {
			u.Tracks[name] = m.tracks
		}
		for _, t := range m.tracks {
			if t.Kind == "script" {
				p.Scripts[t.Name] = scripts[t.Name]
			}
		}
	}
	grouped := map[string]bool{}
	for _, g := range cfg.VRRPSyncGroups {
		u := Unit{Key: "group/" + g.Name, Tracks: map[string][]Track{}}
		var missing []string
		for _, n := range g.Members {
			grouped[n] = true
			if _, good := ok[n]; !good {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			p.Errors = append(p.Errors, fmt.Sprintf("vrrp sync group %q: not run: members %q cannot run", g.Name, missing))
			continue
		}
		for _, n := range g.Members {
			add(&u, n)
		}
		u.Config.SyncGroups = []node.SyncGroup{{Name: g.Name, Members: slices.Clone(g.Members)}}
		p.Units = append(p.Units, u)
	}
	for _, n := range order {
		if grouped[n] {
			continue
		}
		u := Unit{Key: "instance/" + n, Tracks: map[string][]Track{}}
		add(&u, n)
		p.Units = append(p.Units, u)
	}
	return p
}

// change is how a unit moves from one configuration to the next.
type change int

const (
	keep     change = iota // identical: untouched
	priority               // only base priorities differ (none is or becomes the owner): live delta
	live                   // node.Manager.Update applies it (addresses, routes, interval, tracking, ...)
	restart                // node.RestartReason: stop the unit (priority 0, addresses released) and start it again
)

func (c change) String() string { return [...]string{"keep", "priority", "live", "restart"}[c] }

// diff says how running (the config the unit's manager was started with)
// becomes next.
func diff(running, next node.Config) change {
	if equalConfig(running, next) {
		return keep
	}
	if len(running.Instances) != len(next.Instances) ||
		!reflect.DeepEqual(normal(node.Config{SyncGroups: running.SyncGroups}), normal(node.Config{SyncGroups: next.SyncGroups})) {
		return restart
	}
	a, b := cloneConfig(running), cloneConfig(next)
	for i := range a.Instances {
		if node.RestartReason(a.Instances[i], b.Instances[i]) != "" {
			return restart
		}
		a.Instances[i].Priority, b.Instances[i].Priority = 0, 0
	}
	if equalConfig(a, b) {
		return priority
	}
	return live
}

func cloneConfig(c node.Config) node.Config {
	return node.Config{Instances: slices.Clone(c.Instances), SyncGroups: slices.Clone(c.SyncGroups)}
}

// equalConfig compares two node configurations (nil and empty lists are equal).
func equalConfig(a, b node.Config) bool {
	return reflect.DeepEqual(normal(a), normal(b))
}

func normal(c node.Config) node.Config {
	c = cloneConfig(c)
	for i := range c.Instances {
		ic := &c.Instances[i]
		ic.VIPs, ic.Routes = nilIfEmpty(ic.VIPs), nilIfEmpty(ic.Routes)
		ic.UnicastPeers, ic.TrackInterfaces = nilIfEmpty(ic.UnicastPeers), nilIfEmpty(ic.TrackInterfaces)
	}
	c.SyncGroups = nilIfEmpty(c.SyncGroups)
	return c
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
