package vip

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Netlink is the Linux Kernel: vishvananda/netlink in the current network
// namespace, sysctls under /proc/sys.
type Netlink struct {
	// ProcSys is the sysctl root; "" means /proc/sys.
	ProcSys string
}

func (n Netlink) link(name string) (netlink.Link, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("vip: %s: %w", name, ErrNoLink)
		}
		return nil, fmt.Errorf("vip: link %s: %w", name, err)
	}
	return l, nil
}

// Link implements Kernel.
func (n Netlink) Link(name string) (LinkInfo, error) {
	l, err := n.link(name)
	if err != nil {
		return LinkInfo{}, err
	}
	return LinkInfo{Index: l.Attrs().Index, MAC: l.Attrs().HardwareAddr}, nil
}

// EnsureVMAC implements Kernel: a macvlan (private or bridge mode) with the
// virtual MAC on the parent, up; ARP is answered only on the interface that
// holds an address (arp_ignore=1 on parent and macvlan), so the parent does
// not answer for the virtual addresses with its own MAC (arp_filter stays
// off: with a VIP prefix on the macvlan the route back to a client may name
// either interface, and arp_filter would then silence one of them), and ARP
// requests carry the outgoing interface's own address (arp_announce=2), so
// the parent resolving a client never re-points the client's entry for a
// virtual address at the parent's MAC; reverse path filtering is off on the
// macvlan (replies leave through the parent).
// With IPv6 it gets no generated link-local address but a copy of the
// parent's (the source of neighbour adverts).
func (n Netlink) EnsureVMAC(v VMAC) (LinkInfo, error) {
	parent, err := n.link(v.Parent)
	if err != nil {
		return LinkInfo{}, err
	}
	mode := netlink.MACVLAN_MODE_PRIVATE
	if v.Bridge {
		mode = netlink.MACVLAN_MODE_BRIDGE
	}
	l, err := n.link(v.Name)
	if err == nil {
		mv, ok := l.(*netlink.Macvlan)
		if !ok || mv.ParentIndex != parent.Attrs().Index || !bytes.Equal(mv.HardwareAddr, v.MAC) || mv.Mode != mode {
			if err := netlink.LinkDel(l); err != nil {
				return LinkInfo{}, fmt.Errorf("vip: replace %s: %w", v.Name, err)
			}
			l = nil
		}
	} else if !errors.Is(err, ErrNoLink) {
		return LinkInfo{}, err
	} else {
		l = nil
	}
	if l == nil {
		mv := &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: v.Name, ParentIndex: parent.Attrs().Index, HardwareAddr: v.MAC}, Mode: mode}
		if err := netlink.LinkAdd(mv); err != nil {
			return LinkInfo{}, fmt.Errorf("vip: add macvlan %s on %s: %w", v.Name, v.Parent, err)
		}
		if l, err = n.link(v.Name); err != nil {
			return LinkInfo{}, err
		}
		if v.IPv6 {
			if err := netlink.LinkSetIP6AddrGenMode(l, 1 /* IN6_ADDR_GEN_MODE_NONE */); err != nil {
				return LinkInfo{}, fmt.Errorf("vip: %s addrgenmode none: %w", v.Name, err)
			}
		}
	}
	var errs []error
	for _, s := range []struct{ dev, key, val string }{
		{v.Parent, "arp_ignore", "1"}, {v.Parent, "arp_announce", "2"},
		{v.Name, "arp_ignore", "1"}, {v.Name, "arp_announce", "2"}, {v.Name, "rp_filter", "0"},
	} {
		errs = append(errs, n.sysctl(filepath.Join("net/ipv4/conf", s.dev, s.key), s.val))
	}
	if v.IPv6 {
		errs = append(errs, n.sysctl(filepath.Join("net/ipv6/conf", v.Name, "accept_dad"), "0"))
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(l); err != nil {
			return LinkInfo{}, fmt.Errorf("vip: %s up: %w", v.Name, err)
		}
	}
	if v.IPv6 {
		pa, err := n.Addrs(parent.Attrs().Index)
		if err != nil {
			return LinkInfo{}, err
		}
		if ll, ok := LinkLocal(pa); ok {
			have, err := n.Addrs(l.Attrs().Index)
			if err != nil {
				return LinkInfo{}, err
			}
			if p := PlanAddrs(true, []netip.Prefix{netip.PrefixFrom(ll, 64)}, have); !p.Empty() {
				errs = append(errs, n.AddAddr(l.Attrs().Index, p.Add[0]))
			}
		}
	}
	return LinkInfo{Index: l.Attrs().Index, MAC: l.Attrs().HardwareAddr}, errors.Join(errs...)
}

func (n Netlink) sysctl(key, val string) error {
	root := n.ProcSys
	if root == "" {
		root = "/proc/sys"
	}
	if err := os.WriteFile(filepath.Join(root, key), []byte(val), 0o644); err != nil {
		return fmt.Errorf("vip: sysctl %s=%s: %w", key, val, err)
	}
	return nil
}

// DeleteLink implements Kernel.
func (n Netlink) DeleteLink(name string) error {
	l, err := n.link(name)
	if err != nil {
		return err
	}
	if err := netlink.LinkDel(l); err != nil {
		return fmt.Errorf("vip: delete %s: %w", name, err)
	}
	return nil
}

// Addrs implements Kernel.
func (n Netlink) Addrs(ifindex int) ([]netip.Prefix, error) {
	as, err := netlink.AddrList(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("vip: addresses of ifindex %d: %w", ifindex, err)
	}
	out := make([]netip.Prefix, 0, len(as))
	for _, a := range as {
		if p, ok := prefixOf(a.IPNet); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

func ipNet(p netip.Prefix) *net.IPNet {
	a := p.Addr().Unmap()
	bits := a.BitLen()
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(p.Bits(), bits)}
}

func nlAddr(ifindex int, p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: ipNet(p), LinkIndex: ifindex}
	if p.Addr().Is6() && !p.Addr().Is4In6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// AddAddr implements Kernel.
func (n Netlink) AddAddr(ifindex int, p netip.Prefix) error {
	l := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
	if err := netlink.AddrAdd(l, nlAddr(ifindex, p)); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("vip: add %v to ifindex %d: %w", p, ifindex, err)
	}
	return nil
}

// DelAddr implements Kernel.
func (n Netlink) DelAddr(ifindex int, p netip.Prefix) error {
	l := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
	if err := netlink.AddrDel(l, nlAddr(ifindex, p)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("vip: delete %v from ifindex %d: %w", p, ifindex, err)
	}
	return nil
}

func nlRoute(ifindex int, r Route) *netlink.Route {
	nr := &netlink.Route{LinkIndex: ifindex, Priority: r.Metric, Table: r.Table, Family: netlink.FAMILY_V4}
	if r.Dst.Addr().Is6() {
		nr.Family = netlink.FAMILY_V6
	}
	if r.Dst.Bits() > 0 {
		nr.Dst = ipNet(r.Dst.Masked())
	}
	if r.Gateway.IsValid() {
		nr.Gw = r.Gateway.Unmap().AsSlice()
	}
	return nr
}

// ReplaceRoute implements Kernel.
func (n Netlink) ReplaceRoute(ifindex int, r Route) error {
	if err := netlink.RouteReplace(nlRoute(ifindex, r)); err != nil {
		return fmt.Errorf("vip: route %v: %w", r, err)
	}
	return nil
}

// DelRoute implements Kernel.
func (n Netlink) DelRoute(ifindex int, r Route) error {
	if err := netlink.RouteDel(nlRoute(ifindex, r)); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("vip: delete route %v: %w", r, err)
	}
	return nil
}
