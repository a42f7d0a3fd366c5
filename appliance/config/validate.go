package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Validate checks c and returns every problem as Errors (nil when c is valid). It
// accepts a document with or without defaults applied.
func (c Config) Validate() error {
	var errs Errors
	validateSystem(&errs, "system", c.System)

	ifNames := map[string]bool{}
	addrOwner := map[netip.Addr]string{}
	for i, in := range c.Interfaces {
		p := elem("interfaces", i, in.Name)
		validateInterface(&errs, p, in)
		if in.Name != "" {
			if ifNames[in.Name] {
				errs.add(join(p, "name"), "interface %q is listed twice", in.Name)
			}
			ifNames[in.Name] = true
		}
		for j, a := range in.Addresses {
			if !a.IsValid() {
				continue
			}
			ap := fmt.Sprintf("%s.addresses[%d]", p, j)
			if prev, dup := addrOwner[a.Addr()]; dup {
				errs.add(ap, "address %s is already used by %s", a.Addr(), prev)
				continue
			}
			addrOwner[a.Addr()] = ap
		}
	}

	routeDst := map[netip.Prefix]bool{}
	for i, r := range c.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		validateRoute(&errs, p, r)
		if r.Destination.IsValid() {
			if routeDst[r.Destination] {
				errs.add(join(p, "destination"), "route to %s is listed twice", r.Destination)
			}
			routeDst[r.Destination] = true
		}
	}

	vsNames := map[string]bool{}
	vsKeys := map[string]string{}
	for i, vs := range c.VirtualServices {
		p := elem("virtual_services", i, vs.Name)
		validateVirtualService(&errs, p, vs)
		if vs.Name != "" {
			if vsNames[vs.Name] {
				errs.add(join(p, "name"), "virtual service %q is listed twice", vs.Name)
			}
			vsNames[vs.Name] = true
		}
		if vs.Address.IsValid() && validPort(vs.Port) {
			key := fmt.Sprintf("%s/%s", orDefault(vs.Protocol, DefaultProtocol), netip.AddrPortFrom(vs.Address, uint16(vs.Port)))
			if prev, dup := vsKeys[key]; dup {
				errs.add(p, "%s is already defined by %s", key, prev)
			} else {
				vsKeys[key] = p
			}
		}
	}
	return errs.err()
}

func validateSystem(errs *Errors, p string, s System) {
	if s.Hostname != "" && !validHostname(s.Hostname) {
		errs.add(join(p, "hostname"), "%q is not a host name (letters, digits, '-' and '.', at most 64 characters)", s.Hostname)
	}
}

func validateInterface(errs *Errors, p string, in Interface) {
	switch {
	case in.Name == "":
		errs.add(join(p, "name"), "required")
	case !validIfName(in.Name):
		errs.add(join(p, "name"), "%q is not an interface name (1-15 characters, no '/', ':' or spaces)", in.Name)
	}
	for j, a := range in.Addresses {
		ap := fmt.Sprintf("%s.addresses[%d]", p, j)
		switch {
		case !a.IsValid():
			errs.add(ap, "empty address (want address/prefix-length, e.g. 192.0.2.2/24)")
		case a.Addr().Zone() != "":
			errs.add(ap, "%s: zones are not allowed", a)
		case a.Addr().IsUnspecified() || a.Addr().IsMulticast():
			errs.add(ap, "%s is not a unicast address", a)
		case a.Addr().Is4In6():
			errs.add(ap, "%s: write IPv4 addresses in dotted form", a)
		}
	}
}

func validateRoute(errs *Errors, p string, r Route) {
	dst, gw := r.Destination, r.Gateway
	switch {
	case !dst.IsValid():
		errs.add(join(p, "destination"), "required (e.g. 0.0.0.0/0)")
	case dst != dst.Masked():
		errs.add(join(p, "destination"), "%s has host bits set (did you mean %s?)", dst, dst.Masked())
	}
	switch {
	case !gw.IsValid():
		errs.add(join(p, "gateway"), "required")
	case gw.IsUnspecified() || gw.IsMulticast():
		errs.add(join(p, "gateway"), "%s is not a unicast address", gw)
	case dst.IsValid() && gw.Is4() != dst.Addr().Is4():
		errs.add(join(p, "gateway"), "%s is not the same address family as %s", gw, dst)
	}
}

func validateVirtualService(errs *Errors, p string, vs VirtualService) {
	switch {
	case vs.Name == "":
		errs.add(join(p, "name"), "required")
	case !validName(vs.Name):
		errs.add(join(p, "name"), "%q is not a name (1-64 of letters, digits, '-', '_' and '.')", vs.Name)
	}
	switch vs.Protocol {
	case "", ProtocolTCP, ProtocolUDP, ProtocolSCTP:
	default:
		errs.add(join(p, "protocol"), "%q is not a protocol (tcp, udp or sctp)", vs.Protocol)
	}
	switch a := vs.Address; {
	case !a.IsValid():
		errs.add(join(p, "address"), "required")
	case a.Zone() != "":
		errs.add(join(p, "address"), "%s: zones are not allowed", a)
	case a.IsUnspecified() || a.IsMulticast():
		errs.add(join(p, "address"), "%s is not a unicast address", a)
	case a.Is4In6():
		errs.add(join(p, "address"), "%s: write IPv4 addresses in dotted form", a)
	}
	if !validPort(vs.Port) {
		errs.add(join(p, "port"), "%d is not a port (1-65535)", vs.Port)
	}
	if vs.Scheduler != "" && !slices.Contains(Schedulers, vs.Scheduler) {
		errs.add(join(p, "scheduler"), "%q is not a scheduler (one of %s)", vs.Scheduler, strings.Join(Schedulers, ", "))
	}
	if vs.Forwarding != "" && !validForwarding(vs.Forwarding) {
		errs.add(join(p, "forwarding"), "%q is not a forwarding method (nat, dr or tun)", vs.Forwarding)
	}
	seen := map[netip.AddrPort]int{}
	for j, rs := range vs.RealServers {
		rp := fmt.Sprintf("%s.real_servers[%d]", p, j)
		validateRealServer(errs, rp, vs, rs)
		if rs.Address.IsValid() {
			port := rs.Port
			if port == 0 {
				port = vs.Port
			}
			if validPort(port) {
				ap := netip.AddrPortFrom(rs.Address, uint16(port))
				if k, dup := seen[ap]; dup {
					errs.add(rp, "%s is the same real server as real_servers[%d]", ap, k)
				} else {
					seen[ap] = j
				}
			}
		}
	}
}

func validateRealServer(errs *Errors, p string, vs VirtualService, rs RealServer) {
	switch a := rs.Address; {
	case !a.IsValid():
		errs.add(join(p, "address"), "required")
	case a.Zone() != "":
		errs.add(join(p, "address"), "%s: zones are not allowed", a)
	case a.IsUnspecified() || a.IsMulticast():
		errs.add(join(p, "address"), "%s is not a unicast address", a)
	case a.Is4In6():
		errs.add(join(p, "address"), "%s: write IPv4 addresses in dotted form", a)
	case vs.Address.IsValid() && a.Is4() != vs.Address.Is4():
		errs.add(join(p, "address"), "%s is not the same address family as the virtual service address %s", a, vs.Address)
	}
	fwd := orDefault(rs.Forwarding, orDefault(vs.Forwarding, DefaultForwarding))
	switch {
	case rs.Port != 0 && !validPort(rs.Port):
		errs.add(join(p, "port"), "%d is not a port (1-65535)", rs.Port)
	case rs.Port != 0 && rs.Port != vs.Port && validForwarding(fwd) && fwd != ForwardingNAT:
		errs.add(join(p, "port"), "%d differs from the service port %d, which only nat forwarding can do (this real server uses %s)", rs.Port, vs.Port, fwd)
	}
	if w := rs.Weight; w != nil && (*w < 0 || *w > 65535) {
		errs.add(join(p, "weight"), "%d is not a weight (0-65535)", *w)
	}
	if rs.Forwarding != "" && !validForwarding(rs.Forwarding) {
		errs.add(join(p, "forwarding"), "%q is not a forwarding method (nat, dr or tun)", rs.Forwarding)
	}
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }

func validForwarding(f Forwarding) bool {
	return f == ForwardingNAT || f == ForwardingDR || f == ForwardingTun
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// validHostname accepts what sethostname(2) accepts and DNS tolerates: at most 64
// bytes of dot-separated labels of letters, digits and inner hyphens.
func validHostname(h string) bool {
	if len(h) > 64 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isAlnum(r) && r != '-' {
				return false
			}
		}
	}
	return true
}

// validIfName mirrors the kernel's dev_valid_name.
func validIfName(n string) bool {
	if len(n) == 0 || len(n) > 15 || n == "." || n == ".." {
		return false
	}
	return !strings.ContainsAny(n, "/: \t\n")
}

func validName(n string) bool {
	if len(n) == 0 || len(n) > 64 {
		return false
	}
	for _, r := range n {
		if !isAlnum(r) && r != '-' && r != '_' && r != '.' {
			return false
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
