package netcfg

import (
	"context"
	"fmt"
	"net/netip"
)

// Address is an interface address on a named link.
type Address struct {
	Link   string       `json:"link"`
	Prefix netip.Prefix `json:"prefix"`
}

func (a Address) String() string { return fmt.Sprintf("%s on %s", a.Prefix, a.Link) }

// Route is a gateway route in the main table.
type Route struct {
	Destination netip.Prefix `json:"destination"`
	Gateway     netip.Addr   `json:"gateway"`
}

func (r Route) String() string { return fmt.Sprintf("%s via %s", r.Destination, r.Gateway) }

// Link is a link lvsbox manages: it is set up and carries these addresses.
type Link struct {
	Name      string
	Addresses []netip.Prefix
}

// Desired is the host network state the config asks for.
type Desired struct {
	Hostname string // empty: leave alone
	Links    []Link
	Routes   []Route
}

// LinkState is an observed link.
type LinkState struct {
	Name      string
	Exists    bool
	Up        bool
	Addresses []netip.Prefix
}

// Host is the part of the kernel's network configuration netcfg uses.
type Host interface {
	// Link observes a link; a missing link is Exists=false, not an error.
	Link(ctx context.Context, name string) (LinkState, error)
	SetLinkUp(ctx context.Context, name string) error
	AddAddress(ctx context.Context, a Address) error
	// DeleteAddress removes an address; an address already gone is not an error.
	DeleteAddress(ctx context.Context, a Address) error
	// Routes lists the gateway routes of the main table.
	Routes(ctx context.Context) ([]Route, error)
	AddRoute(ctx context.Context, r Route) error
	// DeleteRoute removes a route; a route already gone is not an error.
	DeleteRoute(ctx context.Context, r Route) error
}

// UTS reads and sets the kernel host name.
type UTS interface {
	Hostname() (string, error)
	SetHostname(name string) error
}
