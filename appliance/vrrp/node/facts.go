package node

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
)

// AddrState is one address on an interface.
type AddrState struct {
	Prefix    netip.Prefix
	Secondary bool // IFA_F_SECONDARY
	Tentative bool // IFA_F_TENTATIVE or IFA_F_DADFAILED: not usable as a source
}

// LinkState is what the instances need to know of one interface.
type LinkState struct {
	Name  string
	Index int
	Up    bool // administratively up and running (carrier)
	MAC   net.HardwareAddr
	Addrs []AddrState // in kernel order
}

// Facts are the interfaces by name. A missing name is a missing interface.
type Facts map[string]LinkState

// Assessment is an instance's view of the facts.
type Assessment struct {
	Fault   string     // why the instance must be in FAULT, "" if it need not
	Delta   int        // sum of tracked interface weights that apply now
	Primary netip.Addr // advert source; invalid if none
}

// Assess applies the facts to one instance: its own interface must exist, be
// up and have a source address; tracked interfaces with weight 0 must be up;
// other weights are summed (positive while up, negative while down).
func Assess(ic *InstanceConfig, f Facts) Assessment {
	var a Assessment
	own, ok := f[ic.Interface]
	switch {
	case !ok:
		a.Fault = fmt.Sprintf("interface %s missing", ic.Interface)
	case !own.Up:
		a.Fault = fmt.Sprintf("interface %s down", ic.Interface)
	}
	if ok {
		a.Primary = primaryAddr(ic, own.Addrs)
		if !a.Primary.IsValid() && a.Fault == "" {
			a.Fault = fmt.Sprintf("no %v source address on %s", ic.Family(), ic.Interface)
		}
	}
	for _, t := range ic.TrackInterfaces {
		l, ok := f[t.Name]
		up := ok && l.Up
		switch {
		case t.Weight == 0 && !up && a.Fault == "":
			a.Fault = fmt.Sprintf("tracked interface %s down", t.Name)
		case t.Weight > 0 && up, t.Weight < 0 && !up:
			a.Delta += t.Weight
		}
	}
	return a
}

// primaryAddr picks the advert source: the configured SourceAddr if present
// on the interface; else IPv4: the first primary (not secondary) usable
// address that is not a VIP, then any non-VIP IPv4 address; IPv6: the first
// usable link-local address that is not a VIP (RFC 5798 5.1.2.1), or, for
// unicast peers, any usable non-VIP address if there is no link-local one.
func primaryAddr(ic *InstanceConfig, addrs []AddrState) netip.Addr {
	isVIP := func(a netip.Addr) bool {
		return slices.ContainsFunc(ic.VIPs, func(p netip.Prefix) bool { return p.Addr().Unmap() == a })
	}
	usable := func(s AddrState) bool { return !s.Tentative && !isVIP(s.Prefix.Addr().Unmap()) }
	if ic.SourceAddr.IsValid() {
		for _, s := range addrs {
			if s.Prefix.Addr().Unmap() == ic.SourceAddr.Unmap() && !s.Tentative {
				return ic.SourceAddr.Unmap()
			}
		}
		return netip.Addr{}
	}
	fam := ic.Family()
	pick := func(ok func(netip.Addr, AddrState) bool) netip.Addr {
		for _, s := range addrs {
			a := s.Prefix.Addr().Unmap()
			if vrrp.FamilyOf(a) == fam && usable(s) && ok(a, s) {
				return a
			}
		}
		return netip.Addr{}
	}
	if fam == vrrp.IPv4 {
		if a := pick(func(_ netip.Addr, s AddrState) bool { return !s.Secondary }); a.IsValid() {
			return a
		}
		return pick(func(netip.Addr, AddrState) bool { return true })
	}
	if a := pick(func(a netip.Addr, _ AddrState) bool { return a.IsLinkLocalUnicast() }); a.IsValid() || len(ic.UnicastPeers) == 0 {
		return a
	}
	return pick(func(a netip.Addr, _ AddrState) bool { return a.IsGlobalUnicast() })
}

// linkTable folds netlink link and address events into Facts.
type linkTable struct {
	links map[int]LinkState // by index; Addrs kept in addrs
	addrs map[int][]AddrState
}

func newLinkTable() *linkTable {
	return &linkTable{links: map[int]LinkState{}, addrs: map[int][]AddrState{}}
}

// setLink records a new or changed link (deleted: removed with its addresses).
func (t *linkTable) setLink(l LinkState, deleted bool) {
	if deleted {
		delete(t.links, l.Index)
		delete(t.addrs, l.Index)
		return
	}
	l.Addrs = nil
	t.links[l.Index] = l
}

// setAddr records an address added or removed on ifindex.
func (t *linkTable) setAddr(ifindex int, a AddrState, deleted bool) {
	list := slices.DeleteFunc(t.addrs[ifindex], func(e AddrState) bool { return e.Prefix.Addr() == a.Prefix.Addr() })
	if !deleted {
		list = append(list, a)
	}
	t.addrs[ifindex] = list
}

// facts returns a copy by name.
func (t *linkTable) facts() Facts {
	f := make(Facts, len(t.links))
	for idx, l := range t.links {
		l.Addrs = slices.Clone(t.addrs[idx])
		l.MAC = slices.Clone(l.MAC)
		f[l.Name] = l
	}
	return f
}

// equalLink reports whether two link states are the same for assessment.
func equalLink(a, b LinkState) bool {
	return a.Name == b.Name && a.Index == b.Index && a.Up == b.Up && slices.Equal(a.MAC, b.MAC) && slices.Equal(a.Addrs, b.Addrs)
}

// equal compares two fact sets.
func (f Facts) equal(g Facts) bool {
	return maps.EqualFunc(f, g, equalLink)
}
