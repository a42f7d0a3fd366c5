package vip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Route is a virtual route: present only while master.
type Route struct {
	Dst     netip.Prefix // destination; 0.0.0.0/0 or ::/0 for a default route
	Gateway netip.Addr   // optional next hop
	Metric  int          // 0: kernel default
	Table   int          // 0: main
}

// String renders the route like ip-route.
func (r Route) String() string {
	s := r.Dst.String()
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	if r.Metric != 0 {
		s += fmt.Sprintf(" metric %d", r.Metric)
	}
	if r.Table != 0 {
		s += fmt.Sprintf(" table %d", r.Table)
	}
	return s
}

// VMAC is a virtual MAC interface: a macvlan on Parent with the VRRP virtual
// MAC. The virtual addresses go on it instead of the parent.
type VMAC struct {
	Name   string           // interface name, at most 15 bytes
	Parent string           // the VRRP interface
	MAC    net.HardwareAddr // vrrp.VirtualMAC(family, vrid)
	Bridge bool             // macvlan mode bridge instead of private
	IPv6   bool             // give it the parent's link-local address (source of neighbour adverts)
}

// Announce says how gratuitous ARPs / neighbour adverts are repeated.
type Announce struct {
	Count   int           // rounds on becoming master (and on Worker.Announce); 0 sends none
	Spacing time.Duration // between rounds
	Refresh time.Duration // one more round this often while master; 0: never
}

// DefaultAnnounce is used when an instance configures nothing.
var DefaultAnnounce = Announce{Count: 3, Spacing: 100 * time.Millisecond, Refresh: 30 * time.Second}

// Spec is what one instance holds as master.
type Spec struct {
	Interface string         // where the addresses go when there is no VMAC
	VIPs      []netip.Prefix // virtual addresses with their prefix length
	Routes    []Route        // virtual routes, through Interface (or the VMAC)
	VMAC      *VMAC          // optional
	Announce  Announce
}

// dev is the interface that carries the addresses.
func (s *Spec) dev() string {
	if s.VMAC != nil {
		return s.VMAC.Name
	}
	return s.Interface
}

// Validate checks the spec.
func (s *Spec) Validate() error {
	var errs []error
	if s.Interface == "" {
		errs = append(errs, errors.New("vip: no interface"))
	}
	for _, p := range s.VIPs {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("vip: invalid prefix %v", p))
		}
	}
	for _, r := range s.Routes {
		if !r.Dst.IsValid() {
			errs = append(errs, fmt.Errorf("vip: route %v: invalid destination", r))
		}
		if r.Gateway.IsValid() && r.Gateway.Is4() != r.Dst.Addr().Is4() {
			errs = append(errs, fmt.Errorf("vip: route %v: gateway family differs", r))
		}
	}
	if v := s.VMAC; v != nil {
		if v.Name == "" || len(v.Name) > 15 || v.Parent != s.Interface || len(v.MAC) != 6 {
			errs = append(errs, fmt.Errorf("vip: bad virtual MAC interface %q on %q (%v)", v.Name, v.Parent, v.MAC))
		}
	}
	if s.Announce.Count < 0 || s.Announce.Spacing < 0 || s.Announce.Refresh < 0 {
		errs = append(errs, errors.New("vip: negative announce count or interval"))
	}
	return errors.Join(errs...)
}

// LinkInfo is what the worker needs to know of an interface.
type LinkInfo struct {
	Index int
	MAC   net.HardwareAddr
}

// ErrNoLink is returned (wrapped) by Kernel.Link for a missing interface.
var ErrNoLink = errors.New("no such interface")

// Kernel is the host side the worker changes.
type Kernel interface {
	Link(name string) (LinkInfo, error)
	// EnsureVMAC creates (or fixes) the macvlan, brings it up and sets the
	// ARP sysctls; it is idempotent.
	EnsureVMAC(v VMAC) (LinkInfo, error)
	DeleteLink(name string) error
	// Addrs lists the addresses on the interface.
	Addrs(ifindex int) ([]netip.Prefix, error)
	// AddAddr adds an address (IPv6: without duplicate address detection).
	AddAddr(ifindex int, p netip.Prefix) error
	DelAddr(ifindex int, p netip.Prefix) error
	ReplaceRoute(ifindex int, r Route) error
	// DelRoute removes the route; a missing route is not an error.
	DelRoute(ifindex int, r Route) error
}

// Announcer sends the neighbour cache updates.
type Announcer interface {
	// GARP sends a gratuitous ARP for ip from mac out of ifindex.
	GARP(ifindex int, mac net.HardwareAddr, ip netip.Addr) error
	// NA sends an unsolicited neighbour advertisement (override) for target
	// with mac as target link-layer address, from the link-local src.
	NA(ifindex int, mac net.HardwareAddr, src, target netip.Addr) error
}

// Status is what the worker has done.
type Status struct {
	Master        bool      // the addresses are (meant to be) held
	Applied       bool      // the last apply succeeded
	Err           string    // the last error, "" if none
	Announcements uint64    // rounds of GARP/NA sent
	AnnounceErrs  uint64    // rounds that failed
	ChangedAt     time.Time // last successful apply
}
