package keepalived

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// maxGroupRange bounds one range entry of a virtual_server_group, and
// maxGroupServices the services one group expands to.
const (
	maxGroupRange    = 256
	maxGroupServices = 4096
)

// vsgDefine records a virtual_server_group block; its entries are expanded where a
// virtual_server uses the group.
func (m *mapper) vsgDefine(n *Node) {
	if n.NArgs() != 1 {
		m.bad(n, "virtual_server_group needs exactly one name; block ignored")
		return
	}
	if m.vsgs[n.Arg(0)] != nil {
		m.bad(n, "virtual_server_group %s is already defined; this block is ignored", n.Arg(0))
		return
	}
	m.vsgs[n.Arg(0)] = n
	m.vsgOrder = append(m.vsgOrder, n)
}

// unusedGroups reports groups no virtual_server uses.
func (m *mapper) unusedGroups() {
	for _, g := range m.vsgOrder {
		if !m.vsgUsed[g] {
			m.drop(g, importer.Info, "not mapped: no virtual_server uses group %s (keepalived ignores it too)", g.Arg(0))
		}
	}
}

// vsgEntries expands a group's entries into service keys.
func (m *mapper) vsgEntries(g *Node) []vsKey {
	if !m.vsgUsed[g] {
		m.vsgUsed[g] = true
		defer func() {
			m.info(g, "each entry of virtual_server_group %s becomes a service of its own in lvsbox", g.Arg(0))
		}()
	}
	var keys []vsKey
	for _, e := range g.Block {
		if e.Keyword() == "fwmark" {
			v, ok := m.uintArg(e, 0, 1, 1<<32-1)
			if !ok {
				continue
			}
			k := vsKey{fwmark: uint32(v), at: e}
			switch e.Arg(1) {
			case "":
			case "inet":
				k.family = config.FamilyIPv4
			case "inet6":
				k.family = config.FamilyIPv6
			default:
				m.bad(e, "%q is not an address family (inet or inet6); entry ignored", e.Arg(1))
				continue
			}
			keys = append(keys, k)
			continue
		}
		addrs, ok := m.addrRange(e)
		if !ok {
			continue
		}
		port := 0
		if e.NArgs() >= 1 {
			v, ok := m.uintArg(e, 0, 0, 65535)
			if !ok {
				continue
			}
			port = int(v)
		}
		if e.NArgs() > 1 {
			m.drop(e, importer.Warning, "not mapped: extra words %v after the port", argTexts(e)[1:])
		}
		for _, a := range addrs {
			keys = append(keys, vsKey{addr: a, port: port, at: e})
		}
	}
	if len(keys) > maxGroupServices {
		m.bad(g, "virtual_server_group %s expands to more than %d services; the entries beyond are ignored", g.Arg(0), maxGroupServices)
		keys = keys[:maxGroupServices]
	}
	return keys
}

// addrRange parses "ADDR" or "ADDR-LAST" (the last IPv4 octet, or the last IPv6
// group in hex, runs up to LAST).
func (m *mapper) addrRange(e *Node) ([]netip.Addr, bool) {
	s := e.Keyword()
	if a, ok := parseAddr(s); ok {
		return []netip.Addr{a}, true
	}
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		m.bad(e, "%q is not an address or address range; entry ignored", s)
		return nil, false
	}
	a, ok := parseAddr(s[:i])
	base := 10
	if a.Is6() {
		base = 16
	}
	last, err := strconv.ParseUint(s[i+1:], base, 16)
	if !ok || err != nil {
		m.bad(e, "%q is not an address or address range; entry ignored", s)
		return nil, false
	}
	b := a.AsSlice()
	var first uint64
	if a.Is4() {
		first = uint64(b[3])
	} else {
		first = uint64(b[14])<<8 | uint64(b[15])
	}
	switch {
	case a.Is4() && last > 255, last < first:
		m.bad(e, "%q: the range end must not be below its start (or above 255 for IPv4); entry ignored", s)
		return nil, false
	case last-first+1 > maxGroupRange:
		m.bad(e, "%q spans more than %d addresses; entry ignored", s, maxGroupRange)
		return nil, false
	}
	out := make([]netip.Addr, 0, last-first+1)
	for v := first; v <= last; v++ {
		if a.Is4() {
			b[3] = byte(v)
		} else {
			b[14], b[15] = byte(v>>8), byte(v)
		}
		x, _ := netip.AddrFromSlice(b)
		out = append(out, x)
	}
	return out, true
}

// buildService turns a virtual_server block into the service for key k.
func (m *mapper) buildService(s *vsSpec, k vsKey) {
	n := s.n
	var vs config.VirtualService
	var base string
	if k.fwmark != 0 {
		vs.Fwmark = k.fwmark
		fam := k.family
		if fam == "" {
			fam = s.family
		}
		if fam == "" && len(s.reals) > 0 && s.reals[0].addr.Is6() {
			fam = config.FamilyIPv6
		}
		if fam == config.FamilyIPv6 {
			vs.Family = fam
		}
		base = importer.FwmarkName(k.fwmark, fam)
		if s.protoAt != nil && !s.protoDropped {
			s.protoDropped = true
			m.drop(s.protoAt, importer.Info, "not mapped: a fwmark service has no protocol, the mark selects the packets (keepalived ignores it too)")
		}
	} else {
		vs.Address, vs.Port = k.addr, k.port
		vs.Protocol = config.ProtocolTCP
		if s.proto != "" {
			vs.Protocol = s.proto
		}
		base = importer.ServiceName(vs.Protocol, vs.Address, vs.Port)
	}
	vs.Name = m.serviceNames.Unique(base)
	idx := len(m.cfg.VirtualServices)
	at := func(sub string, p importer.Pos) { m.origin("virtual_services", idx, vs.Name, sub, p) }
	at("", k.at.Pos)

	vs.Scheduler = config.DefaultScheduler
	if s.sched != "" {
		vs.Scheduler = s.sched
	}
	m.schedFlags(s, &vs)
	vs.Forwarding = s.forwarding
	if vs.Forwarding == "" {
		vs.Forwarding = config.ForwardingNAT
		if !s.warnedFwdUnset {
			s.warnedFwdUnset = true
			m.info(n, "no lb_kind: keepalived forwards with NAT, and so does the import")
		}
	}
	vs.Tunnel = s.tunnel
	m.persistence(s, &vs)
	vs.OnePacket = s.onePacket

	m.realServers(s, &vs, at)
	if len(vs.RealServers) == 0 {
		m.drop(n, importer.Warning, "not mapped: virtual server %s has no (usable) real servers; keepalived ignores it, and so does the import", base)
		return
	}
	m.quorum(s, &vs)
	m.sorryServer(s, &vs, at)
	m.cfg.VirtualServices = append(m.cfg.VirtualServices, vs)
}

// schedFlags maps sh-/mh- flags and flag-1/flag-2 for the service's scheduler.
func (m *mapper) schedFlags(s *vsSpec, vs *config.VirtualService) {
	for _, f := range s.flags {
		f, ok := importer.SchedulerFlag(vs.Scheduler, f)
		switch {
		case !ok:
			m.notes.Unmapped(s.n.Pos, importer.Warning, f, "not mapped: %s is not a flag of the %s scheduler", f, vs.Scheduler)
		case !contains(vs.SchedulerFlags, f):
			vs.SchedulerFlags = append(vs.SchedulerFlags, f)
		}
	}
}

// persistence maps persistence_timeout and persistence_granularity.
func (m *mapper) persistence(s *vsSpec, vs *config.VirtualService) {
	if s.persist == nil && !vs.IsFwmark() && vs.Port == 0 {
		d := kaPersistTimeout
		s.persist = &d
		m.warn(s.n, "port 0 (all ports) is only valid for persistent services; keepalived sets persistence_timeout 360, and so does the import")
	}
	if s.persist == nil {
		if g := s.granularity; g != nil {
			m.drop(g, importer.Info, "not mapped: granularity without persistence_timeout has no effect")
			s.granularity = nil
		}
		return
	}
	vs.Persistence = &config.Persistence{Timeout: *s.persist}
	g := s.granularity
	if g == nil {
		return
	}
	if vs.Is6() {
		v, err := strconv.Atoi(g.Arg(0))
		if err != nil || v < 1 || v > 128 {
			m.bad(g, "%q is not an IPv6 prefix length (1-128); ignored", g.Arg(0))
			return
		}
		vs.Persistence.PrefixLength = v
		return
	}
	a, ok := parseAddr(g.Arg(0))
	if !ok || !a.Is4() {
		m.bad(g, "%q is not an IPv4 netmask; ignored", g.Arg(0))
		return
	}
	vs.Persistence.Netmask = a
}

// realServers maps the real servers of s into vs, with keepalived's corrections.
func (m *mapper) realServers(s *vsSpec, vs *config.VirtualService, at func(string, importer.Pos)) {
	var checks []*config.HealthCheck
	seen := map[netip.AddrPort]bool{}
	for _, r := range s.reals {
		fwd := r.forwarding
		if fwd == "" {
			fwd = vs.Forwarding
		}
		if r.addr.Is6() != vs.Is6() && fwd != config.ForwardingTun {
			m.drop(r.n, importer.Warning, "not mapped: %s is not the service's address family and only TUN forwarding can mix families (keepalived ignores it too)", r.addr)
			continue
		}
		port := r.port
		if fwd != config.ForwardingNAT && port != vs.Port {
			if port != 0 {
				m.warn(r.n, "%s forwarding cannot change the port; the real server gets the service's port (keepalived does the same)", strings.ToUpper(string(fwd)))
			}
			port = 0
		}
		eff := port
		if eff == 0 {
			eff = vs.Port
		}
		key := netip.AddrPortFrom(r.addr, uint16(eff))
		if seen[key] {
			m.drop(r.n, importer.Warning, "not mapped: real server %s is listed twice in this service (keepalived drops the second, and so does the import)", key)
			continue
		}
		seen[key] = true
		rs := config.RealServer{Address: r.addr, Port: port, UpperThreshold: r.upper, LowerThreshold: r.lower}
		w := s.weight
		if r.weight != nil {
			w = *r.weight
		}
		rs.Weight = &w
		if r.forwarding != "" && r.forwarding != vs.Forwarding {
			rs.Forwarding = r.forwarding
		}
		if r.forwarding == config.ForwardingTun {
			rs.Tunnel = r.tunnel
		}
		j := len(vs.RealServers)
		at(fmt.Sprintf(".real_servers[%d]", j), r.n.Pos)
		vs.RealServers = append(vs.RealServers, rs)
		checks = append(checks, m.realCheck(s, r))
	}
	m.unusedTimers(s.defaults, checks)
	for _, r := range s.reals {
		if r.hcDone {
			m.unusedTimers(r.defaults, []*config.HealthCheck{r.hc})
		}
	}
	// One check for the whole service when every real server has the same one.
	same := len(checks) > 0 && checks[0] != nil
	for _, hc := range checks[min(1, len(checks)):] {
		same = same && hc != nil && reflect.DeepEqual(hc, checks[0])
	}
	if same {
		vs.HealthCheck = checks[0]
		return
	}
	for j, hc := range checks {
		vs.RealServers[j].HealthCheck = hc
	}
}

// quorum maps quorum and hysteresis with keepalived's corrections.
func (m *mapper) quorum(s *vsSpec, vs *config.VirtualService) {
	q, h := s.quorum, s.hysteresis
	total := 0
	for _, rs := range vs.RealServers {
		total += rs.EffectiveWeight()
	}
	if q > total {
		m.warn(s.n, "quorum %d exceeds the total weight %d of the real servers; keepalived lowers it to %d, and so does the import", q, total, max(total, 1))
		q = max(total, 1)
	}
	if h >= q {
		m.warn(s.n, "hysteresis %d must be below quorum %d; keepalived sets it to %d, and so does the import", h, q, q-1)
		h = q - 1
	}
	if q != 1 || h != 0 {
		vs.Quorum = &config.Quorum{MinimumWeight: q, Hysteresis: h}
	}
}

// sorryServer maps sorry_server ADDR [PORT].
func (m *mapper) sorryServer(s *vsSpec, vs *config.VirtualService, at func(string, importer.Pos)) {
	c := s.sorry
	if c == nil {
		return
	}
	a, ok := parseAddr(c.Arg(0))
	if !ok {
		m.bad(c, "%q is not an IP address; ignored", c.Arg(0))
		return
	}
	ss := &config.SorryServer{Address: a}
	if c.NArgs() >= 2 {
		v, err := strconv.ParseUint(c.Arg(1), 10, 16)
		if err != nil {
			m.bad(c, "%q is not a port; ignored", c.Arg(1))
			return
		}
		ss.Port = int(v)
	}
	if vs.Forwarding != config.ForwardingNAT && ss.Port != 0 && ss.Port != vs.Port {
		m.warn(c, "%s forwarding cannot change the port; the sorry server gets the service's port (keepalived does the same)", strings.ToUpper(string(vs.Forwarding)))
		ss.Port = 0
	}
	at(".sorry_server", c.Pos)
	vs.SorryServer = ss
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
