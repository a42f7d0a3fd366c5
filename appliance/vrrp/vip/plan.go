package vip

import (
	"net/netip"
	"slices"
)

// Plan is the address change that makes an interface match a state.
type Plan struct {
	Add []netip.Prefix // virtual addresses missing while master
	Del []netip.Prefix // addresses to remove (as they exist on the interface)
}

// Empty reports whether nothing needs to change.
func (p Plan) Empty() bool { return len(p.Add) == 0 && len(p.Del) == 0 }

// PlanAddrs compares the virtual addresses with what the interface has. An
// address counts as present whatever its prefix length; as master the
// missing ones are added, otherwise every present one is removed with the
// prefix length it has there.
func PlanAddrs(master bool, vips, existing []netip.Prefix) Plan {
	var p Plan
	for _, v := range vips {
		i := slices.IndexFunc(existing, func(e netip.Prefix) bool { return e.Addr().Unmap() == v.Addr().Unmap() })
		switch {
		case master && i < 0:
			p.Add = append(p.Add, v)
		case !master && i >= 0:
			p.Del = append(p.Del, existing[i])
		}
	}
	return p
}

// LinkLocal returns the first IPv6 link-local address in addrs.
func LinkLocal(addrs []netip.Prefix) (netip.Addr, bool) {
	for _, a := range addrs {
		if a.Addr().Is6() && a.Addr().IsLinkLocalUnicast() {
			return a.Addr(), true
		}
	}
	return netip.Addr{}, false
}
