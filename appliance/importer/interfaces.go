package importer

import (
	"net/netip"
	"slices"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// Interfaces is the interface list an import builds up: every interface the source
// refers to must be a configured interface in lvsbox.
type Interfaces struct {
	list []config.Interface
}

// Has reports whether name is in the list.
func (x *Interfaces) Has(name string) bool { return x.index(name) >= 0 }

func (x *Interfaces) index(name string) int {
	return slices.IndexFunc(x.list, func(in config.Interface) bool { return in.Name == name })
}

// Ensure adds name (role data) unless it is in the list or is "lo" or empty; it
// reports whether it added it.
func (x *Interfaces) Ensure(name string) bool {
	if name == "" || name == "lo" || x.Has(name) {
		return false
	}
	x.list = append(x.list, config.Interface{Name: name, Role: config.RoleData})
	return true
}

// AddAddress adds a static address to interface name (which Ensure adds first); it
// reports false when the address is already on the interface.
func (x *Interfaces) AddAddress(name string, p netip.Prefix) bool {
	x.Ensure(name)
	i := x.index(name)
	if i < 0 || slices.Contains(x.list[i].Addresses, p) {
		return false
	}
	x.list[i].Addresses = append(x.list[i].Addresses, p)
	return true
}

// List returns the interfaces in the order they were first referred to.
func (x *Interfaces) List() []config.Interface { return x.list }
