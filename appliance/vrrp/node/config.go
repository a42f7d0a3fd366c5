package node

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
)

// InstanceConfig is one VRRP instance.
type InstanceConfig struct {
	Name           string
	Interface      string // the VRRP interface (the VMAC parent)
	Version        uint8  // 2 or 3
	VRID           uint8
	Priority       uint8 // base priority; 255 = address owner
	AdvertInterval time.Duration
	NoPreempt      bool
	PreemptDelay   time.Duration
	AcceptMode     bool
	VIPs           []netip.Prefix // all of one family; the length is the prefix put on the interface
	Routes         []vip.Route    // virtual routes, present only while master
	AuthType       vrrp.AuthType  // v2: none or PASS
	AuthPass       string
	// UnicastPeers, if set, replaces multicast: adverts go to each peer and
	// only adverts from a peer are accepted.
	UnicastPeers []netip.Addr
	// SourceAddr overrides the advert source (default: the interface's first
	// primary IPv4 address, or its IPv6 link-local address); it must be on
	// the interface.
	SourceAddr netip.Addr
	VMAC       bool   // put the VIPs on a macvlan with the virtual MAC
	VMACName   string // default vrrp.<VRID> (IPv6: vrrp6.<VRID>)
	VMACBridge bool   // macvlan mode bridge (default private)
	// Announce: gratuitous ARP / neighbour advert repetition; zero Count and
	// Refresh take vip.DefaultAnnounce.
	Announce        vip.Announce
	TrackInterfaces []TrackInterface
	// InitialMaster is keepalived's state MASTER: the instance starts in
	// Master (sending an advert at once) instead of Backup, and steps down
	// when it hears a better master. Only the first start of the instance.
	InitialMaster bool
}

// TrackInterface is an interface whose state moves the instance: weight 0
// puts it in FAULT while the interface is down; a positive weight is added
// to the priority while it is up, a negative one while it is down
// (keepalived's semantics).
type TrackInterface struct {
	Name   string
	Weight int
}

// SyncGroup is a set of instances that change state together.
type SyncGroup struct {
	Name    string
	Members []string
}

// Config is every instance the manager runs.
type Config struct {
	Instances  []InstanceConfig
	SyncGroups []SyncGroup
}

// Family of the instance's VIPs.
func (ic *InstanceConfig) Family() vrrp.Family {
	if len(ic.VIPs) == 0 {
		return 0
	}
	return vrrp.FamilyOf(ic.VIPs[0].Addr())
}

// VRRP is the core configuration with the given primary (source) address.
func (ic *InstanceConfig) VRRP(primary netip.Addr) vrrp.Config {
	c := vrrp.Config{
		Version: ic.Version, VRID: ic.VRID, Priority: ic.Priority, AdvertInterval: ic.AdvertInterval,
		NoPreempt: ic.NoPreempt, PreemptDelay: ic.PreemptDelay, AcceptMode: ic.AcceptMode,
		PrimaryAddr: primary, AuthType: ic.AuthType, AuthPass: ic.AuthPass,
	}
	for _, p := range ic.VIPs {
		c.VIPs = append(c.VIPs, p.Addr().Unmap())
	}
	return c
}

// vmacName is the virtual MAC interface name.
func (ic *InstanceConfig) vmacName() string {
	switch {
	case ic.VMACName != "":
		return ic.VMACName
	case ic.Family() == vrrp.IPv6:
		return fmt.Sprintf("vrrp6.%d", ic.VRID)
	}
	return fmt.Sprintf("vrrp.%d", ic.VRID)
}

// VIPSpec is what the address worker holds as master.
func (ic *InstanceConfig) VIPSpec() vip.Spec {
	s := vip.Spec{Interface: ic.Interface, VIPs: slices.Clone(ic.VIPs), Routes: slices.Clone(ic.Routes), Announce: ic.Announce}
	if s.Announce.Count == 0 && s.Announce.Refresh == 0 && s.Announce.Spacing == 0 {
		s.Announce = vip.DefaultAnnounce
	}
	if ic.VMAC {
		mac := vrrp.VirtualMAC(ic.Family(), ic.VRID)
		s.VMAC = &vip.VMAC{Name: ic.vmacName(), Parent: ic.Interface, MAC: net.HardwareAddr(mac[:]),
			Bridge: ic.VMACBridge, IPv6: ic.Family() == vrrp.IPv6}
	}
	return s
}

// Validate checks one instance.
func (ic *InstanceConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("vrrp instance %q: "+format, append([]any{ic.Name}, args...)...))
	}
	if ic.Name == "" {
		bad("no name")
	}
	if ic.Interface == "" {
		bad("no interface")
	}
	c := ic.VRRP(ic.SourceAddr)
	if err := c.Validate(); err != nil {
		bad("%w", err)
	}
	fam := ic.Family()
	for _, p := range ic.VIPs {
		if !p.IsValid() || p.Bits() < 0 {
			bad("virtual address %v: not address/length", p)
		}
	}
	for _, a := range ic.UnicastPeers {
		if vrrp.FamilyOf(a) != fam || a.IsMulticast() || a.IsUnspecified() {
			bad("unicast peer %v: not a %v unicast address", a, fam)
		}
	}
	if ic.SourceAddr.IsValid() && fam == vrrp.IPv6 && !ic.SourceAddr.IsLinkLocalUnicast() && len(ic.UnicastPeers) == 0 {
		bad("IPv6 source address %v must be link-local for multicast adverts", ic.SourceAddr)
	}
	spec := ic.VIPSpec()
	if err := spec.Validate(); err != nil {
		bad("%w", err)
	}
	for _, r := range ic.Routes {
		if vrrp.FamilyOf(r.Dst.Addr()) != fam {
			bad("virtual route %v: not %v like the virtual addresses", r, fam)
		}
	}
	seen := map[string]bool{}
	for _, t := range ic.TrackInterfaces {
		if t.Name == "" || seen[t.Name] {
			bad("tracked interface %q empty or listed twice", t.Name)
		}
		seen[t.Name] = true
		if t.Weight < -253 || t.Weight > 253 {
			bad("tracked interface %s: weight %d, want -253..253", t.Name, t.Weight)
		}
	}
	return errors.Join(errs...)
}

// RestartReason says why old cannot become next live ("" if it can): the
// interface, version, VRID, family, source address, unicast/multicast mode,
// virtual MAC or authentication changed, or the priority became or stopped
// being the owner's. Addresses, routes, announce settings, tracked
// interfaces, the advert interval, preempt settings, accept mode, unicast
// peers and other priorities are applied live (Manager.Update).
func RestartReason(old, next InstanceConfig) string {
	switch {
	case old.Name != next.Name:
		return "name"
	case old.Interface != next.Interface:
		return "interface"
	case old.Version != next.Version:
		return "version"
	case old.VRID != next.VRID:
		return "vrid"
	case old.Family() != next.Family():
		return "family"
	case old.SourceAddr != next.SourceAddr:
		return "source address"
	case (len(old.UnicastPeers) == 0) != (len(next.UnicastPeers) == 0):
		return "unicast/multicast mode"
	case old.VMAC != next.VMAC || old.VMAC && (old.vmacName() != next.vmacName() || old.VMACBridge != next.VMACBridge):
		return "virtual MAC"
	case old.AuthType != next.AuthType || old.AuthPass != next.AuthPass:
		return "authentication"
	case (old.Priority == vrrp.PriorityOwner) != (next.Priority == vrrp.PriorityOwner):
		return "owner priority"
	}
	return ""
}

// FirstLinkLocal reports whether the first IPv6 VIP is link-local, as RFC
// 5798 5.2.9 wants (keepalived does not insist; neither do we, but it is
// reported).
func (ic *InstanceConfig) FirstLinkLocal() bool {
	return ic.Family() != vrrp.IPv6 || ic.VIPs[0].Addr().IsLinkLocalUnicast()
}

type sockKey struct {
	ifname string
	fam    vrrp.Family
}

func (ic *InstanceConfig) sockKey() sockKey { return sockKey{ic.Interface, ic.Family()} }

// Validate checks every instance and the sync groups: unique names, one VRID
// per interface and family, groups naming existing instances, each instance
// in at most one group.
func (c *Config) Validate() error {
	var errs []error
	names := map[string]bool{}
	vrids := map[sockKey]map[uint8]string{}
	for i := range c.Instances {
		ic := &c.Instances[i]
		if err := ic.Validate(); err != nil {
			errs = append(errs, err)
		}
		if names[ic.Name] {
			errs = append(errs, fmt.Errorf("vrrp instance %q defined twice", ic.Name))
		}
		names[ic.Name] = true
		k := ic.sockKey()
		if vrids[k] == nil {
			vrids[k] = map[uint8]string{}
		}
		if o, dup := vrids[k][ic.VRID]; dup {
			errs = append(errs, fmt.Errorf("vrrp instances %q and %q: same vrid %d on %s (%v)", o, ic.Name, ic.VRID, ic.Interface, k.fam))
		}
		vrids[k][ic.VRID] = ic.Name
	}
	inGroup := map[string]string{}
	gnames := map[string]bool{}
	for _, g := range c.SyncGroups {
		if g.Name == "" || gnames[g.Name] {
			errs = append(errs, fmt.Errorf("vrrp sync group %q: empty or duplicate name", g.Name))
		}
		gnames[g.Name] = true
		if len(g.Members) == 0 {
			errs = append(errs, fmt.Errorf("vrrp sync group %q: no members", g.Name))
		}
		for _, m := range g.Members {
			switch {
			case !names[m]:
				errs = append(errs, fmt.Errorf("vrrp sync group %q: unknown instance %q", g.Name, m))
			case inGroup[m] != "":
				errs = append(errs, fmt.Errorf("vrrp instance %q is in sync groups %q and %q", m, inGroup[m], g.Name))
			default:
				inGroup[m] = g.Name
			}
		}
	}
	return errors.Join(errs...)
}
