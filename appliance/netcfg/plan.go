package netcfg

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
)

// OpKind is the kind of one host write.
type OpKind uint8

// Host write kinds.
const (
	SetHostname OpKind = iota
	SetLinkUp
	AddAddress
	AddRoute
	DeleteRoute
	DeleteAddress
)

func (k OpKind) String() string {
	return [...]string{"set hostname", "set link up", "add address", "add route",
		"delete route", "delete address"}[k]
}

// Op is one host write; only the fields of its kind are set.
type Op struct {
	Kind    OpKind
	Name    string // hostname or link name
	Address Address
	Route   Route
}

func (o Op) String() string {
	switch o.Kind {
	case SetHostname:
		return fmt.Sprintf("set hostname %s", o.Name)
	case SetLinkUp:
		return fmt.Sprintf("set link %s up", o.Name)
	case AddAddress, DeleteAddress:
		return fmt.Sprintf("%s %s", o.Kind, o.Address)
	case AddRoute, DeleteRoute:
		return fmt.Sprintf("%s %s", o.Kind, o.Route)
	}
	return "unknown op"
}

// Observed is what the host looked like. Parts that could not be observed are left
// out (a link missing from Links, RoutesKnown false) and Plan then plans nothing for
// them.
type Observed struct {
	Hostname      string
	HostnameKnown bool
	Links         map[string]LinkState
	Routes        []Route
	RoutesKnown   bool
}

// Ledger is what lvsbox added itself and may therefore remove again.
type Ledger struct {
	Addresses []Address `json:"addresses"`
	Routes    []Route   `json:"routes"`
}

// Plan is the outcome of planning.
type Plan struct {
	Ops []Op
	// Forget lists ledger entries that are neither desired nor present any more: they
	// are dropped from the ledger without a write.
	ForgetAddresses []Address
	ForgetRoutes    []Route
	// Problems are desired objects that cannot be planned (e.g. a missing interface).
	Problems []error
}

// MakePlan computes the ordered writes that bring the host from observed to desired,
// given what lvsbox added earlier (owned). Order: host name, links up, addresses added,
// routes added, routes deleted, addresses deleted. It is pure.
func MakePlan(d Desired, o Observed, owned Ledger) Plan {
	var p Plan
	if d.Hostname != "" && o.HostnameKnown && o.Hostname != d.Hostname {
		p.Ops = append(p.Ops, Op{Kind: SetHostname, Name: d.Hostname})
	}

	wantAddr := map[Address]bool{}
	var ups, addAddrs, delAddrs []Op
	for _, l := range d.Links {
		st, ok := o.Links[l.Name]
		if !ok {
			continue // not observed; the caller reported why
		}
		if !st.Exists {
			p.Problems = append(p.Problems, fmt.Errorf("netcfg: interface %s: not found", l.Name))
			continue
		}
		if !st.Up {
			ups = append(ups, Op{Kind: SetLinkUp, Name: l.Name})
		}
		for _, pfx := range l.Addresses {
			a := Address{Link: l.Name, Prefix: pfx}
			wantAddr[a] = true
			if !slices.Contains(st.Addresses, pfx) {
				addAddrs = append(addAddrs, Op{Kind: AddAddress, Address: a})
			}
		}
	}
	for _, a := range owned.Addresses {
		if wantAddr[a] {
			continue
		}
		st, ok := o.Links[a.Link]
		switch {
		case !ok:
			// Not observed this time: keep it in the ledger, decide next pass.
		case !st.Exists || !slices.Contains(st.Addresses, a.Prefix):
			p.ForgetAddresses = append(p.ForgetAddresses, a)
		default:
			delAddrs = append(delAddrs, Op{Kind: DeleteAddress, Address: a})
		}
	}

	var addRoutes, delRoutes []Op
	if o.RoutesKnown {
		wantRoute := map[Route]bool{}
		for _, r := range d.Routes {
			wantRoute[r] = true
			if !slices.Contains(o.Routes, r) {
				addRoutes = append(addRoutes, Op{Kind: AddRoute, Route: r})
			}
		}
		for _, r := range owned.Routes {
			switch {
			case wantRoute[r]:
			case slices.Contains(o.Routes, r):
				delRoutes = append(delRoutes, Op{Kind: DeleteRoute, Route: r})
			default:
				p.ForgetRoutes = append(p.ForgetRoutes, r)
			}
		}
	}

	p.Ops = slices.Concat(p.Ops, ups, addAddrs, addRoutes, delRoutes, delAddrs)
	return p
}

// linksToObserve are the desired links and the links of owned addresses.
func linksToObserve(d Desired, owned Ledger) []string {
	set := map[string]bool{}
	for _, l := range d.Links {
		set[l.Name] = true
	}
	for _, a := range owned.Addresses {
		set[a.Link] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// normalize makes ledger order deterministic.
func (l *Ledger) normalize() {
	slices.SortFunc(l.Addresses, func(a, b Address) int {
		if a.Link != b.Link {
			if a.Link < b.Link {
				return -1
			}
			return 1
		}
		return comparePrefix(a.Prefix, b.Prefix)
	})
	l.Addresses = slices.Compact(l.Addresses)
	slices.SortFunc(l.Routes, func(a, b Route) int {
		if c := comparePrefix(a.Destination, b.Destination); c != 0 {
			return c
		}
		return a.Gateway.Compare(b.Gateway)
	})
	l.Routes = slices.Compact(l.Routes)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
