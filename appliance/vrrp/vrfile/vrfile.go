package vrfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
)

// Duration is a time.Duration written as "100ms", "1s".
type Duration time.Duration

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"100ms\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// File is the JSON file format.
type File struct {
	Instances  []Instance  `json:"instances"`
	SyncGroups []SyncGroup `json:"sync_groups,omitempty"`
}

// Instance mirrors node.InstanceConfig.
type Instance struct {
	Name            string      `json:"name"`
	Interface       string      `json:"interface"`
	Version         uint8       `json:"version"`
	VRID            uint8       `json:"vrid"`
	Priority        uint8       `json:"priority"`
	AdvertInterval  Duration    `json:"advert_interval"`
	NoPreempt       bool        `json:"no_preempt,omitempty"`
	PreemptDelay    Duration    `json:"preempt_delay,omitempty"`
	AcceptMode      bool        `json:"accept_mode,omitempty"`
	VIPs            []string    `json:"vips"` // "192.0.2.100/24"; a bare address gets /32 or /128
	Routes          []Route     `json:"routes,omitempty"`
	AuthPass        string      `json:"auth_pass,omitempty"` // v2 PASS
	UnicastPeers    []string    `json:"unicast_peers,omitempty"`
	SourceAddr      string      `json:"source_address,omitempty"`
	VMAC            bool        `json:"vmac,omitempty"`
	VMACName        string      `json:"vmac_name,omitempty"`
	VMACBridge      bool        `json:"vmac_bridge,omitempty"`
	GARP            *GARP       `json:"garp,omitempty"`
	TrackInterfaces []TrackItem `json:"track_interfaces,omitempty"`
}

// Route is a virtual route.
type Route struct {
	Dst     string `json:"dst"`
	Gateway string `json:"gateway,omitempty"`
	Metric  int    `json:"metric,omitempty"`
	Table   int    `json:"table,omitempty"`
}

// GARP is the announcement repetition.
type GARP struct {
	Count   int      `json:"count"`
	Spacing Duration `json:"spacing"`
	Refresh Duration `json:"refresh"`
}

// TrackItem is a tracked interface.
type TrackItem struct {
	Name   string `json:"name"`
	Weight int    `json:"weight,omitempty"`
}

// SyncGroup is a sync group.
type SyncGroup struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// Load reads, converts and validates a file.
func Load(path string) (node.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return node.Config{}, err
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return node.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	c, err := f.Convert()
	if err != nil {
		return node.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, c.Validate()
}

func prefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Convert turns the file into the runtime configuration (not validated).
func (f *File) Convert() (node.Config, error) {
	var c node.Config
	var errs []error
	for _, in := range f.Instances {
		ic := node.InstanceConfig{Name: in.Name, Interface: in.Interface, Version: in.Version, VRID: in.VRID,
			Priority: in.Priority, AdvertInterval: time.Duration(in.AdvertInterval), NoPreempt: in.NoPreempt,
			PreemptDelay: time.Duration(in.PreemptDelay), AcceptMode: in.AcceptMode, VMAC: in.VMAC,
			VMACName: in.VMACName, VMACBridge: in.VMACBridge}
		bad := func(err error) { errs = append(errs, fmt.Errorf("instance %q: %w", in.Name, err)) }
		for _, s := range in.VIPs {
			p, err := prefix(s)
			if err != nil {
				bad(err)
			}
			ic.VIPs = append(ic.VIPs, p)
		}
		for _, r := range in.Routes {
			var vr vip.Route
			var err error
			if vr.Dst, err = prefix(r.Dst); err != nil {
				bad(err)
			}
			if r.Gateway != "" {
				if vr.Gateway, err = netip.ParseAddr(r.Gateway); err != nil {
					bad(err)
				}
			}
			vr.Metric, vr.Table = r.Metric, r.Table
			ic.Routes = append(ic.Routes, vr)
		}
		if in.AuthPass != "" {
			ic.AuthType, ic.AuthPass = vrrp.AuthPass, in.AuthPass
		}
		for _, s := range in.UnicastPeers {
			a, err := netip.ParseAddr(s)
			if err != nil {
				bad(err)
			}
			ic.UnicastPeers = append(ic.UnicastPeers, a)
		}
		if in.SourceAddr != "" {
			a, err := netip.ParseAddr(in.SourceAddr)
			if err != nil {
				bad(err)
			}
			ic.SourceAddr = a
		}
		if g := in.GARP; g != nil {
			ic.Announce = vip.Announce{Count: g.Count, Spacing: time.Duration(g.Spacing), Refresh: time.Duration(g.Refresh)}
		}
		for _, t := range in.TrackInterfaces {
			ic.TrackInterfaces = append(ic.TrackInterfaces, node.TrackInterface{Name: t.Name, Weight: t.Weight})
		}
		c.Instances = append(c.Instances, ic)
	}
	for _, g := range f.SyncGroups {
		c.SyncGroups = append(c.SyncGroups, node.SyncGroup{Name: g.Name, Members: g.Members})
	}
	return c, errors.Join(errs...)
}
