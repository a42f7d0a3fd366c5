package keepalived

import (
	"net/netip"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// keepalived's defaults for virtual servers and checkers.
const (
	kaDelayLoop      = config.Duration(60e9)
	kaConnectTimeout = config.Duration(5e9)
	kaPersistTimeout = config.Duration(360e9)
)

// timers are the checker settings a virtual server or real server passes down to
// its checkers (nil: not set at this level).
type timers struct {
	delayLoop, connectTimeout, delayBeforeRetry *config.Duration
	retry                                       *int
	virtualhost                                 string
	inhibit                                     *bool
	// set are the lines that set the fields above (to report them when no
	// checker uses them); vhostAt is the virtualhost line.
	set     []*Node
	vhostAt *Node
	// Checker-only settings.
	sni         bool
	dynamic     bool
	miscTimeout *config.Duration
	expect      string
}

// vsSpec is a virtual_server block read, before it is turned into one service (or,
// for a group, one service per group entry).
type vsSpec struct {
	n              *Node
	proto          config.Protocol
	protoAt        *Node
	sched          string
	flags          []string
	forwarding     config.Forwarding
	tunnel         *config.Tunnel
	persist        *config.Duration
	granularity    *Node
	onePacket      bool
	family         config.Family
	weight         int
	quorum         int
	hysteresis     int
	sorry          *Node
	defaults       timers
	reals          []*realSpec
	warnedFwdUnset bool
	protoDropped   bool
}

// realSpec is a real_server block read.
type realSpec struct {
	n          *Node
	addr       netip.Addr
	port       int
	weight     *int
	forwarding config.Forwarding
	tunnel     *config.Tunnel
	upper      uint32
	lower      uint32
	defaults   timers
	checks     []*Node
	// hc is the mapped check (computed once, also for group expansions).
	hc     *config.HealthCheck
	hcDone bool
}

// vsKey identifies one service a virtual_server block stands for.
type vsKey struct {
	addr   netip.Addr
	port   int
	fwmark uint32
	family config.Family
	at     *Node
}

// virtualServer maps a virtual_server block.
func (m *mapper) virtualServer(n *Node) {
	keys, ok := m.vsKeys(n)
	spec := m.readVS(n)
	if !ok {
		// The block is left out, but what is in it is still checked, so that every
		// problem is reported at once.
		for _, r := range spec.reals {
			m.realCheck(spec, r)
		}
		return
	}
	for _, k := range keys {
		m.buildService(spec, k)
	}
}

// vsKeys reads the services a virtual_server line stands for.
func (m *mapper) vsKeys(n *Node) ([]vsKey, bool) {
	switch {
	case n.Arg(0) == "group":
		if !m.needArgs(n, 2) {
			return nil, false
		}
		g := m.vsgs[n.Arg(1)]
		if g == nil {
			m.bad(n, "there is no virtual_server_group %s; keepalived ignores this virtual server too", n.Arg(1))
			return nil, false
		}
		return m.vsgEntries(g), true
	case n.Arg(0) == "fwmark":
		v, ok := m.uintArg(n, 1, 1, 1<<32-1)
		if !ok {
			return nil, false
		}
		return []vsKey{{fwmark: uint32(v), at: n}}, true
	}
	a, ok := m.addrArg(n, 0)
	if !ok {
		m.notes.Add(n.Pos, importer.Error, n.Keyword(), "virtual server left out; the problems in its block follow")
		return nil, false
	}
	port := 0
	if n.NArgs() >= 2 {
		v, ok := m.uintArg(n, 1, 0, 65535)
		if !ok {
			return nil, false
		}
		port = int(v)
	}
	return []vsKey{{addr: a, port: port, at: n}}, true
}

// readVS reads a virtual_server block's settings and real servers.
func (m *mapper) readVS(n *Node) *vsSpec {
	s := &vsSpec{n: n, weight: 1, quorum: 1}
	for _, c := range n.Block {
		switch kw := c.Keyword(); kw {
		case "lb_algo", "lvs_sched":
			if !m.needArgs(c, 1) {
				continue
			}
			switch sched := c.Arg(0); {
			case sched == "twos":
				m.bad(c, "not mapped: lvsbox has no twos scheduler (the Debian kernel lacks it); the default wlc is used")
			case validScheduler(sched):
				s.sched = sched
			default:
				m.bad(c, "%q is not a scheduler keepalived knows; keepalived uses wlc, and so does the import", sched)
			}
		case "lb_kind", "lvs_method":
			if f, t, ok := m.forwardingArg(c); ok {
				s.forwarding, s.tunnel = f, t
			}
		case "protocol":
			switch p := strings.ToLower(c.Arg(0)); p {
			case "tcp", "udp", "sctp":
				s.proto, s.protoAt = config.Protocol(p), c
			default:
				m.bad(c, "%q is not a protocol (TCP, UDP or SCTP); keepalived uses TCP, and so does the import", c.Arg(0))
			}
		case "persistence_timeout":
			d := kaPersistTimeout
			if c.NArgs() > 0 {
				v, ok := m.uintArg(c, 0, 1, 2147483)
				if !ok {
					continue
				}
				d = config.Duration(v) * 1e9
			}
			s.persist = &d
		case "persistence_granularity":
			if m.needArgs(c, 1) {
				s.granularity = c
			}
		case "ops":
			s.onePacket = true
		case "sh-port", "sh-fallback", "mh-port", "mh-fallback":
			s.flags = append(s.flags, kw)
		case "flag-1", "flag-2":
			s.flags = append(s.flags, kw)
		case "ip_family":
			switch c.Arg(0) {
			case "inet":
				s.family = config.FamilyIPv4
			case "inet6":
				s.family = config.FamilyIPv6
			default:
				m.bad(c, "%q is not an address family (inet or inet6)", c.Arg(0))
			}
		case "weight":
			if v, ok := m.uintArg(c, 0, 1, 65535); ok {
				s.weight = int(v)
			}
		case "quorum":
			if v, ok := m.uintArg(c, 0, 1, 1<<31-1); ok {
				s.quorum = int(v)
			}
		case "hysteresis":
			if v, ok := m.uintArg(c, 0, 0, 1<<31-1); ok {
				s.hysteresis = int(v)
			}
		case "sorry_server":
			if m.needArgs(c, 1) {
				s.sorry = c
			}
		case "real_server":
			if rs := m.readRS(c, s); rs != nil {
				s.reals = append(s.reals, rs)
			}
		default:
			if !m.timerKeyword(c, &s.defaults) {
				m.other(c, blockVS)
			}
		}
	}
	return s
}

// timerKeyword maps the checker defaults a virtual or real server may set; it
// reports whether c was one of them.
func (m *mapper) timerKeyword(c *Node, t *timers) bool {
	switch c.Keyword() {
	case "delay_loop":
		if d, ok := m.timerArg(c, 0); ok {
			t.delayLoop = &d
		}
	case "connect_timeout":
		if d, ok := m.timerArg(c, 0); ok {
			t.connectTimeout = &d
		}
	case "delay_before_retry":
		if d, ok := m.timerArg(c, 0); ok {
			t.delayBeforeRetry = &d
		}
	case "retry", "nb_get_retry":
		if v, ok := m.uintArg(c, 0, 0, 1<<31-1); ok {
			r := int(v)
			t.retry = &r
		}
	case "virtualhost":
		if m.needArgs(c, 1) {
			t.virtualhost = c.Arg(0)
		}
	case "inhibit_on_failure":
		if v, ok := m.flagArg(c); ok {
			t.inhibit = &v
		}
	default:
		return false
	}
	t.set = append(t.set, c)
	if c.Keyword() == "virtualhost" {
		t.vhostAt = c
	}
	return true
}

// unusedTimers reports checker settings of a virtual or real server that no
// checker uses (keepalived ignores them too).
func (m *mapper) unusedTimers(t timers, checks []*config.HealthCheck) {
	some, http := false, false
	for _, hc := range checks {
		some = some || hc != nil
		http = http || hc != nil && (hc.Type == config.CheckHTTP || hc.Type == config.CheckHTTPS)
	}
	for _, c := range t.set {
		switch {
		case !some:
			m.drop(c, importer.Info, "not mapped: no checker uses it (there is none here), so it has no effect in keepalived either")
		case c == t.vhostAt && !http:
			m.drop(c, importer.Info, "not mapped: only HTTP_GET and SSL_GET checks send a virtualhost, and there is none here")
		}
	}
}

// forwardingArg reads "NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]".
func (m *mapper) forwardingArg(c *Node) (config.Forwarding, *config.Tunnel, bool) {
	var f config.Forwarding
	switch c.Arg(0) {
	case "NAT":
		f = config.ForwardingNAT
	case "DR":
		f = config.ForwardingDR
	case "TUN":
		f = config.ForwardingTun
	default:
		m.bad(c, "%q is not a forwarding method (NAT, DR or TUN); ignored", c.Arg(0))
		return "", nil, false
	}
	var t *config.Tunnel
	for i := 1; i < c.NArgs(); i++ {
		switch c.Arg(i) {
		case "type":
			i++
			switch typ := config.TunnelType(c.Arg(i)); typ {
			case config.TunnelIPIP, config.TunnelGUE, config.TunnelGRE:
				if t == nil {
					t = &config.Tunnel{}
				}
				t.Type = typ
			default:
				m.bad(c, "%q is not a tunnel type (ipip, gue or gre); ignored", c.Arg(i))
			}
		case "port":
			i++
			if v, ok := m.uintArg(c, i, 1, 65535); ok {
				if t == nil {
					t = &config.Tunnel{}
				}
				t.Port = int(v)
			}
		case "nocsum", "csum", "remcsum":
			m.notes.Unmapped(c.Pos, importer.Warning, c.Arg(i), "not mapped: lvsbox leaves the tunnel checksum mode at the kernel's default")
		default:
			m.notes.Unmapped(c.Pos, importer.Warning, c.Arg(i), "not a forwarding option keepalived knows; ignored")
		}
	}
	if t != nil && f != config.ForwardingTun {
		m.warn(c, "tunnel settings apply only to TUN; ignored")
		t = nil
	}
	return f, t, true
}

// readRS reads a real_server block.
func (m *mapper) readRS(n *Node, vs *vsSpec) *realSpec {
	a, ok := m.addrArg(n, 0)
	rs := &realSpec{n: n, addr: a}
	if ok && n.NArgs() >= 2 {
		var v int64
		v, ok = m.uintArg(n, 1, 0, 65535)
		rs.port = int(v)
	}
	if !ok {
		// Left out, but its block is still checked so that every problem is
		// reported at once.
		m.notes.Add(n.Pos, importer.Error, n.Keyword(), "real server left out; the problems in its block follow")
	}
	for _, c := range n.Block {
		switch kw := c.Keyword(); kw {
		case "weight":
			if v, ok := m.uintArg(c, 0, 0, 65535); ok {
				w := int(v)
				rs.weight = &w
			}
		case "lvs_method":
			if f, t, ok := m.forwardingArg(c); ok {
				rs.forwarding, rs.tunnel = f, t
			}
		case "uthreshold":
			if v, ok := m.uintArg(c, 0, 0, 1<<32-1); ok {
				rs.upper = uint32(v)
			}
		case "lthreshold":
			if v, ok := m.uintArg(c, 0, 0, 1<<32-1); ok {
				rs.lower = uint32(v)
			}
		case "TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK":
			rs.checks = append(rs.checks, c)
		default:
			if !m.timerKeyword(c, &rs.defaults) {
				m.other(c, blockRS)
			}
		}
	}
	if !ok {
		m.realCheck(vs, rs)
		return nil
	}
	return rs
}

func validScheduler(s string) bool {
	for _, x := range config.Schedulers {
		if x == s {
			return true
		}
	}
	return false
}
