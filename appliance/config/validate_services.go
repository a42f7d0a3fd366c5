package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

func (v *validator) virtualServices() {
	for i := range v.c.VirtualServices {
		vs := &v.c.VirtualServices[i]
		if _, dup := v.services[vs.Name]; vs.Name != "" && !dup {
			v.services[vs.Name] = vs
		}
	}
	names := map[string]bool{}
	keys := map[string]string{}
	for i, vs := range v.c.VirtualServices {
		p := elem("virtual_services", i, vs.Name)
		switch {
		case vs.Name == "":
			v.add(join(p, "name"), "required")
		case !validName(vs.Name):
			v.add(join(p, "name"), "%q is not a name (1-64 of letters, digits, '-', '_' and '.')", vs.Name)
		case names[vs.Name]:
			v.add(join(p, "name"), "virtual service %q is listed twice", vs.Name)
		}
		names[vs.Name] = true
		if key := v.serviceKey(p, vs); key != "" {
			if prev, dup := keys[key]; dup {
				v.add(p, "%s is already defined by %s", key, prev)
			} else {
				keys[key] = p
			}
		}
		v.scheduler(p, vs)
		v.persistence(p, vs)
		v.forwarding(p, vs)
		if vs.HealthCheck != nil {
			v.check(join(p, "health_check"), *vs.HealthCheck)
		}
		if ss := vs.SorryServer; ss != nil {
			v.sorryServer(join(p, "sorry_server"), vs, *ss)
		}
		if q := vs.Quorum; q != nil {
			minimum := orDefault(q.MinimumWeight, DefaultQuorumMinWeight)
			switch {
			case q.MinimumWeight < 0:
				v.add(join(p, "quorum.minimum_weight"), "%d is negative", q.MinimumWeight)
			case q.Hysteresis < 0:
				v.add(join(p, "quorum.hysteresis"), "%d is negative", q.Hysteresis)
			case q.Hysteresis >= minimum:
				v.add(join(p, "quorum.hysteresis"), "%d must be smaller than minimum_weight %d, or the service could never lose quorum", q.Hysteresis, minimum)
			}
		}
		seen := map[netip.AddrPort]int{}
		for j, rs := range vs.RealServers {
			rp := fmt.Sprintf("%s.real_servers[%d]", p, j)
			v.realServer(rp, vs, rs)
			port := orDefault(rs.Port, vs.Port)
			if !rs.Address.IsValid() || port < 0 || port > 65535 {
				continue
			}
			ap := netip.AddrPortFrom(rs.Address, uint16(port))
			if k, dup := seen[ap]; dup {
				v.add(rp, "%s is the same real server as real_servers[%d]", ap, k)
			} else {
				seen[ap] = j
			}
		}
	}
}

// serviceKey checks the identifying fields and returns the service's key (empty when
// they are broken).
func (v *validator) serviceKey(p string, vs VirtualService) string {
	if vs.IsFwmark() {
		const why = "(the firewall mark selects the packets)"
		if vs.Address.IsValid() {
			v.add(join(p, "address"), "a fwmark service has no address %s", why)
		}
		if vs.Port != 0 {
			v.add(join(p, "port"), "a fwmark service has no port %s", why)
		}
		if vs.Protocol != "" {
			v.add(join(p, "protocol"), "a fwmark service has no protocol %s", why)
		}
		switch vs.Family {
		case "", FamilyIPv4, FamilyIPv6:
			return fmt.Sprintf("fwmark %d (%s)", vs.Fwmark, orDefault(vs.Family, DefaultFwmarkFamily))
		}
		v.add(join(p, "family"), "%q is not an address family (ipv4 or ipv6)", vs.Family)
		return ""
	}
	ok := true
	if vs.Family != "" {
		v.add(join(p, "family"), "only fwmark services take a family (this service's address gives it)")
	}
	switch vs.Protocol {
	case "", ProtocolTCP, ProtocolUDP, ProtocolSCTP:
	default:
		v.add(join(p, "protocol"), "%q is not a protocol (tcp, udp or sctp)", vs.Protocol)
		ok = false
	}
	ok = v.unicast(join(p, "address"), vs.Address) && ok
	switch {
	case vs.Port == 0 && vs.Persistence != nil:
	case vs.Port == 0:
		v.add(join(p, "port"), "required (1-65535; 0, meaning all ports, only with persistence)")
		ok = false
	case !validPort(vs.Port):
		v.add(join(p, "port"), "%d is not a port (1-65535)", vs.Port)
		ok = false
	}
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s/%s", orDefault(vs.Protocol, DefaultProtocol), netip.AddrPortFrom(vs.Address, uint16(vs.Port)))
}

func (v *validator) scheduler(p string, vs VirtualService) {
	switch s := vs.Scheduler; {
	case s == "":
	case !slices.Contains(Schedulers, s):
		v.add(join(p, "scheduler"), "%q is not a scheduler (one of %s)", s, strings.Join(Schedulers, ", "))
	case v.env.Schedulers != nil && !slices.Contains(v.env.Schedulers, s):
		v.add(join(p, "scheduler"), "the running kernel does not offer the %s scheduler (it has: %s)", s, strings.Join(v.env.Schedulers, ", "))
	}
	sched := orDefault(vs.Scheduler, DefaultScheduler)
	for j, f := range vs.SchedulerFlags {
		fp := fmt.Sprintf("%s.scheduler_flags[%d]", p, j)
		owner, ok := SchedulerFlags[f]
		switch {
		case !ok:
			v.add(fp, "%q is not a scheduler flag (sh-fallback, sh-port, mh-fallback or mh-port)", f)
		case owner != sched:
			v.add(fp, "%s is a flag of the %s scheduler, but this service uses %s", f, owner, sched)
		case slices.Contains(vs.SchedulerFlags[:j], f):
			v.add(fp, "%s is listed twice", f)
		}
	}
}

func (v *validator) persistence(p string, vs VirtualService) {
	if vs.OnePacket && !vs.IsFwmark() && vs.Protocol != ProtocolUDP {
		v.add(join(p, "one_packet"), "one-packet scheduling is for UDP services (this one is %s)", orDefault(vs.Protocol, DefaultProtocol))
	}
	ps := vs.Persistence
	if ps == nil {
		return
	}
	pp := join(p, "persistence")
	if ps.Timeout == 0 {
		v.add(join(pp, "timeout"), "required (e.g. \"300s\")")
	} else {
		v.seconds(join(pp, "timeout"), ps.Timeout, maxTimeout)
	}
	if m := ps.Netmask; m.IsValid() {
		switch {
		case vs.Is6():
			v.add(join(pp, "netmask"), "netmask is for IPv4 services; an IPv6 service groups clients by prefix_length")
		case !validMask(m):
			v.add(join(pp, "netmask"), "%s is not an IPv4 netmask (contiguous ones, e.g. 255.255.255.0)", m)
		}
	}
	if ps.PrefixLength != 0 {
		switch {
		case !vs.Is6():
			v.add(join(pp, "prefix_length"), "prefix_length is for IPv6 services; an IPv4 service groups clients by netmask")
		case ps.PrefixLength < 1 || ps.PrefixLength > 128:
			v.add(join(pp, "prefix_length"), "%d is not an IPv6 prefix length (1-128)", ps.PrefixLength)
		}
	}
}

func (v *validator) forwarding(p string, vs VirtualService) {
	if vs.Forwarding != "" && !validForwarding(vs.Forwarding) {
		v.add(join(p, "forwarding"), "%q is not a forwarding method (nat, dr or tun)", vs.Forwarding)
	}
	if vs.Tunnel == nil {
		return
	}
	fwd := orDefault(vs.Forwarding, DefaultForwarding)
	usesTun := fwd == ForwardingTun
	for _, rs := range vs.RealServers {
		usesTun = usesTun || rs.Forwarding == ForwardingTun
	}
	if !usesTun {
		v.add(join(p, "tunnel"), "a tunnel is only used with tun forwarding (this service and its real servers use %s)", fwd)
	}
	v.tunnel(join(p, "tunnel"), *vs.Tunnel)
}

func (v *validator) tunnel(p string, t Tunnel) {
	typ := orDefault(t.Type, DefaultTunnelType)
	switch {
	case typ != TunnelIPIP && typ != TunnelGUE && typ != TunnelGRE:
		v.add(join(p, "type"), "%q is not a tunnel type (ipip, gue or gre)", t.Type)
		return
	case v.env.TunnelTypes != nil && !slices.Contains(v.env.TunnelTypes, typ):
		v.add(join(p, "type"), "the running kernel does not offer %s tunnels for IPVS (gue and gre need Linux 5.3 or later)", typ)
	}
	switch {
	case typ == TunnelGUE && t.Port == 0:
		v.add(join(p, "port"), "required for gue tunnels (the UDP port of the real server's GUE receiver)")
	case typ == TunnelGUE:
		v.optPort(join(p, "port"), t.Port)
	case t.Port != 0:
		v.add(join(p, "port"), "only gue tunnels have a port (this one is %s)", typ)
	}
}

func (v *validator) realServer(p string, vs VirtualService, rs RealServer) {
	fwd := orDefault(rs.Forwarding, orDefault(vs.Forwarding, DefaultForwarding))
	if v.unicast(join(p, "address"), rs.Address) && (vs.Address.IsValid() || vs.IsFwmark()) &&
		rs.Address.Is6() != vs.Is6() && fwd != ForwardingTun {
		v.add(join(p, "address"), "%s is not the same address family as the service (only tun forwarding can mix families)", rs.Address)
	}
	switch {
	case rs.Port != 0 && !validPort(rs.Port):
		v.add(join(p, "port"), "%d is not a port (1-65535)", rs.Port)
	case rs.Port != 0 && vs.Port == 0 && validForwarding(fwd) && fwd != ForwardingNAT:
		v.add(join(p, "port"), "%s forwarding keeps the packet's destination port, and this service has none: leave port out", fwd)
	case rs.Port != 0 && rs.Port != vs.Port && validForwarding(fwd) && fwd != ForwardingNAT:
		v.add(join(p, "port"), "%d differs from the service port %d, which only nat forwarding can do (this real server uses %s)", rs.Port, vs.Port, fwd)
	}
	if w := rs.Weight; w != nil && (*w < 0 || *w > 65535) {
		v.add(join(p, "weight"), "%d is not a weight (0-65535)", *w)
	}
	if rs.Forwarding != "" && !validForwarding(rs.Forwarding) {
		v.add(join(p, "forwarding"), "%q is not a forwarding method (nat, dr or tun)", rs.Forwarding)
	}
	if rs.Tunnel != nil {
		if fwd != ForwardingTun {
			v.add(join(p, "tunnel"), "a tunnel is only used with tun forwarding (this real server uses %s)", fwd)
		}
		v.tunnel(join(p, "tunnel"), *rs.Tunnel)
	}
	switch {
	case rs.LowerThreshold != 0 && rs.UpperThreshold == 0:
		v.add(join(p, "lower_threshold"), "a lower threshold needs an upper_threshold")
	case rs.LowerThreshold > rs.UpperThreshold:
		v.add(join(p, "lower_threshold"), "%d is above upper_threshold %d", rs.LowerThreshold, rs.UpperThreshold)
	}
	switch rs.AdminState {
	case "", StateEnabled, StateDrain, StateDisabled:
	default:
		v.add(join(p, "admin_state"), "%q is not an admin state (enabled, drain or disabled)", rs.AdminState)
	}
	if rs.HealthCheck != nil {
		v.check(join(p, "health_check"), *rs.HealthCheck)
	}
}

func (v *validator) sorryServer(p string, vs VirtualService, ss SorryServer) {
	if v.unicast(join(p, "address"), ss.Address) && (vs.Address.IsValid() || vs.IsFwmark()) && ss.Address.Is6() != vs.Is6() {
		v.add(join(p, "address"), "%s is not the same address family as the service", ss.Address)
	}
	fwd := orDefault(vs.Forwarding, DefaultForwarding)
	switch {
	case ss.Port != 0 && !validPort(ss.Port):
		v.add(join(p, "port"), "%d is not a port (1-65535)", ss.Port)
	case ss.Port != 0 && ss.Port != vs.Port && validForwarding(fwd) && fwd != ForwardingNAT:
		v.add(join(p, "port"), "%d differs from the service port %d, which only nat forwarding can do (this service uses %s)", ss.Port, vs.Port, fwd)
	}
}

func validForwarding(f Forwarding) bool {
	return f == ForwardingNAT || f == ForwardingDR || f == ForwardingTun
}

// validMask reports whether m is a contiguous IPv4 netmask.
func validMask(m netip.Addr) bool {
	if !m.Is4() {
		return false
	}
	b := m.As4()
	inv := ^(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	return inv&(inv+1) == 0
}
