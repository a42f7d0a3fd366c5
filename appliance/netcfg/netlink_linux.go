package netcfg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Netlink is the real Host, over rtnetlink (vishvananda/netlink).
type Netlink struct {
	h *netlink.Handle
}

// NewNetlink returns a Host for the network namespace of h (nil: the current one,
// through the package-level handle of vishvananda/netlink).
func NewNetlink(h *netlink.Handle) *Netlink {
	if h == nil {
		h = &netlink.Handle{}
	}
	return &Netlink{h: h}
}

// Link observes a link.
func (n *Netlink) Link(_ context.Context, name string) (LinkState, error) {
	l, err := n.h.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return LinkState{Name: name}, nil
	}
	if err != nil {
		return LinkState{}, fmt.Errorf("netcfg: link %s: %w", name, err)
	}
	st := LinkState{Name: name, Exists: true, Up: l.Attrs().Flags&net.FlagUp != 0}
	addrs, err := n.h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return LinkState{}, fmt.Errorf("netcfg: list addresses of %s: %w", name, err)
	}
	for _, a := range addrs {
		if p, ok := prefixOf(a.IPNet); ok {
			st.Addresses = append(st.Addresses, p)
		}
	}
	return st, nil
}

// SetLinkUp sets a link administratively up.
func (n *Netlink) SetLinkUp(_ context.Context, name string) error {
	l, err := n.h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("netcfg: link %s: %w", name, err)
	}
	if err := n.h.LinkSetUp(l); err != nil {
		return fmt.Errorf("netcfg: set %s up: %w", name, err)
	}
	return nil
}

// AddAddress adds an address to a link.
func (n *Netlink) AddAddress(_ context.Context, a Address) error {
	l, err := n.h.LinkByName(a.Link)
	if err != nil {
		return fmt.Errorf("netcfg: link %s: %w", a.Link, err)
	}
	if err := n.h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(a.Prefix)}); err != nil {
		return fmt.Errorf("netcfg: add address %s: %w", a, err)
	}
	return nil
}

// DeleteAddress removes an address from a link; an address already gone is fine.
func (n *Netlink) DeleteAddress(_ context.Context, a Address) error {
	l, err := n.h.LinkByName(a.Link)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("netcfg: link %s: %w", a.Link, err)
	}
	err = n.h.AddrDel(l, &netlink.Addr{IPNet: ipNet(a.Prefix)})
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("netcfg: delete address %s: %w", a, err)
	}
	return nil
}

// Routes lists the main table's single-path gateway routes.
func (n *Netlink) Routes(_ context.Context) ([]Route, error) {
	rs, err := n.h.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return nil, fmt.Errorf("netcfg: list routes: %w", err)
	}
	var out []Route
	for _, r := range rs {
		if r.Gw == nil || r.Dst == nil || len(r.MultiPath) > 0 {
			continue
		}
		dst, ok := prefixOf(r.Dst)
		gw, ok2 := netip.AddrFromSlice(r.Gw)
		if ok && ok2 {
			out = append(out, Route{Destination: dst.Masked(), Gateway: gw.Unmap()})
		}
	}
	return out, nil
}

// AddRoute adds a gateway route to the main table.
func (n *Netlink) AddRoute(_ context.Context, r Route) error {
	if err := n.h.RouteAdd(netlinkRoute(r)); err != nil {
		return fmt.Errorf("netcfg: add route %s: %w", r, err)
	}
	return nil
}

// DeleteRoute removes a gateway route; a route already gone is fine.
func (n *Netlink) DeleteRoute(_ context.Context, r Route) error {
	err := n.h.RouteDel(netlinkRoute(r))
	if err != nil && !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("netcfg: delete route %s: %w", r, err)
	}
	return nil
}

func netlinkRoute(r Route) *netlink.Route {
	return &netlink.Route{Dst: ipNet(r.Destination), Gw: net.IP(r.Gateway.AsSlice())}
}

func ipNet(p netip.Prefix) *net.IPNet {
	a := p.Addr()
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(p.Bits(), a.BitLen())}
}

// prefixOf converts an address with its mask, keeping host bits.
func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	ones, bits := n.Mask.Size()
	if bits == 0 || (a.Is4() && bits != 32) || (a.Is6() && bits != 128) {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, ones), true
}

var _ Host = (*Netlink)(nil)
