package rshelper

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Forwarding is how IPVS hands packets to a real server.
type Forwarding string

// Forwarding methods.
const (
	NAT Forwarding = "nat"
	DR  Forwarding = "dr"
	TUN Forwarding = "tun"
)

// TunnelIPIP is the only tunnel type the helper writes scripts for (IP-in-IP, and
// IPv6-in-IPv6 for IPv6 services).
const TunnelIPIP = "ipip"

// Service is a virtual service whose real servers need a script.
type Service struct {
	Name     string
	Protocol string // tcp, udp, sctp; "" for a firewall-mark service
	Port     int
	Fwmark   uint32
	// VIPs are the addresses clients connect to: the service address, or for a
	// firewall-mark service the addresses its mark rule matches.
	VIPs       []netip.Addr
	Forwarding Forwarding
	// Tunnel is the tun encapsulation ("" means ipip).
	Tunnel      string
	RealServers []RealServer
}

// RealServer is one real server; empty Forwarding/Tunnel mean the service's.
type RealServer struct {
	Address    netip.Addr
	Forwarding Forwarding
	Tunnel     string
}

// Box names the director the script belongs to (for the header).
type Box struct {
	Name string
}

// Script is one generated script: for the real servers of a service that share a
// forwarding method and address family.
type Script struct {
	FileName    string // suggested, e.g. lvsbox-rs-web-dr.sh
	Forwarding  Forwarding
	IPv6        bool
	RealServers []netip.Addr
	Text        string
}

// ErrNoScript: the service has no DR or TUN real server, so nothing is needed on the
// real servers beyond a route back through the director (NAT).
var ErrNoScript = errors.New("no DR or TUN real servers: nothing to set up on them (NAT real servers only need their default route through the director)")

type group struct {
	fwd   Forwarding
	v6    bool
	reals []netip.Addr
}

// Scripts returns one script per forwarding method and address family among the
// service's DR and TUN real servers (usually exactly one).
func Scripts(box Box, svc Service) ([]Script, error) {
	if svc.Name == "" {
		return nil, errors.New("rshelper: service without a name")
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("rshelper: service %s: "+format, append([]any{svc.Name}, args...)...)
	}
	var groups []*group
	for _, r := range svc.RealServers {
		fwd := cmp.Or(r.Forwarding, svc.Forwarding)
		switch fwd {
		case NAT:
			continue
		case DR, TUN:
		default:
			return nil, fail("real server %s: unknown forwarding %q", r.Address, fwd)
		}
		if fwd == TUN {
			if t := cmp.Or(r.Tunnel, svc.Tunnel, TunnelIPIP); t != TunnelIPIP {
				return nil, fail("real server %s: tunnel %s: the helper writes scripts for ipip tunnels only", r.Address, t)
			}
		}
		a := r.Address.Unmap()
		if !a.IsValid() {
			return nil, fail("real server without an address")
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.fwd == fwd && g.v6 == a.Is6() })
		if i < 0 {
			groups = append(groups, &group{fwd: fwd, v6: a.Is6()})
			i = len(groups) - 1
		}
		if !slices.Contains(groups[i].reals, a) {
			groups[i].reals = append(groups[i].reals, a)
		}
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("rshelper: service %s: %w", svc.Name, ErrNoScript)
	}
	slices.SortFunc(groups, func(a, b *group) int {
		return cmp.Or(strings.Compare(string(a.fwd), string(b.fwd)), boolCmp(a.v6, b.v6))
	})
	var out []Script
	for _, g := range groups {
		var vips []netip.Addr
		for _, v := range svc.VIPs {
			if v = v.Unmap(); v.IsValid() && v.Is6() == g.v6 && !slices.Contains(vips, v) {
				vips = append(vips, v)
			}
		}
		if len(vips) == 0 {
			return nil, fail("no %s VIP for its %s real servers %v (IPVS %s keeps the address family)",
				family(g.v6), family(g.v6), g.reals, g.fwd)
		}
		slices.SortFunc(g.reals, netip.Addr.Compare)
		name := "lvsbox-rs-" + safe(svc.Name) + "-" + string(g.fwd)
		if len(groups) > 1 && slices.ContainsFunc(groups, func(o *group) bool { return o != g && o.fwd == g.fwd }) {
			name += "-" + family(g.v6)
		}
		name += ".sh"
		text, err := render(box, svc, g, vips, name)
		if err != nil {
			return nil, fail("%w", err)
		}
		out = append(out, Script{FileName: name, Forwarding: g.fwd, IPv6: g.v6, RealServers: g.reals, Text: text})
	}
	return out, nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func family(v6 bool) string {
	if v6 {
		return "ipv6"
	}
	return "ipv4"
}

// safe keeps a name usable in a file name and a shell comment.
func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}
