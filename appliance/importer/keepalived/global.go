package keepalived

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// globalDefs maps the global_defs block.
func (m *mapper) globalDefs(n *Node) {
	for _, c := range n.Block {
		switch c.Keyword() {
		case "router_id":
			if !m.needArgs(c, 1) {
				continue
			}
			if id := c.Arg(0); validHostname(id) {
				m.cfg.System.Hostname = id
				m.origins.Set("system.hostname", c.Pos)
				m.info(c, "mapped to system.hostname %q (keepalived's router_id defaults to the host name)", id)
			} else {
				m.drop(c, importer.Info, "not mapped: %q is not a host name; keepalived uses router_id only to name this node in notifications", id)
			}
		case "vrrp_version":
			if v, ok := m.uintArg(c, 0, 2, 3); ok {
				m.g.vrrpVersion = int(v)
			}
		case "vrrp_strict":
			m.g.strict = true
			m.info(c, "strict mode: instances get accept mode off (unless priority 255) and no authentication, as keepalived does")
		case "default_interface":
			if m.needArgs(c, 1) {
				m.g.defaultIface = c.Arg(0)
			}
		case "lvs_timeouts":
			m.lvsTimeouts(c)
		case "lvs_sync_daemon":
			if m.needArgs(c, 2) {
				m.g.syncDaemon = c
			}
		case "vrrp_garp_master_repeat":
			if v, ok := m.uintArg(c, 0, 1, 100); ok {
				m.g.garp.Count = int(v)
			}
		case "vrrp_garp_interval":
			if d, ok := m.timerArg(c, 0); ok {
				m.g.garp.Interval = d
			}
		case "vrrp_garp_master_refresh":
			if d, ok := m.timerArg(c, 0); ok {
				m.g.garp.Refresh = d
			}
		default:
			m.other(c, blockGlobal)
		}
	}
}

// lvsTimeouts maps "lvs_timeouts tcp N tcpfin N udp N".
func (m *mapper) lvsTimeouts(n *Node) {
	t := &m.cfg.IPVS.Timeouts
	for i := 0; i < n.NArgs(); i += 2 {
		var dst *config.Duration
		switch n.Arg(i) {
		case "tcp":
			dst = &t.TCP
		case "tcpfin":
			dst = &t.TCPFin
		case "udp":
			dst = &t.UDP
		default:
			m.bad(n, "%q is not a timeout (tcp, tcpfin or udp); ignored", n.Arg(i))
			continue
		}
		v, err := strconv.ParseUint(n.Arg(i+1), 10, 31)
		if err != nil {
			m.bad(n, "%s %q is not a number of seconds; ignored", n.Arg(i), n.Arg(i+1))
			continue
		}
		*dst = config.Duration(v) * config.Duration(1e9)
		m.origins.Set("ipvs.timeouts", n.Pos)
	}
}

// syncDaemonFromGlobals maps "lvs_sync_daemon IF INSTANCE [id N] [maxlen N]
// [port N] [ttl N] [group ADDR]".
func (m *mapper) syncDaemonFromGlobals() {
	n := m.g.syncDaemon
	if n == nil {
		return
	}
	sd := &m.cfg.IPVS.SyncDaemon
	if sd.Enabled {
		m.warn(n, "the sync daemon is already set by lvs_sync_daemon_interface; this line replaces it")
	}
	*sd = config.SyncDaemon{Enabled: true, Interface: n.Arg(0)}
	m.origins.Set("ipvs.sync_daemon", n.Pos)
	m.iface(n.Arg(0), n, "lvs_sync_daemon")
	if _, ok := m.instances[n.Arg(1)]; !ok {
		m.warn(n, "vrrp_instance %q does not exist", n.Arg(1))
	}
	m.info(n, "the sync daemon runs as master and backup on every node in lvsbox (keepalived switches it with the state of vrrp_instance %s)", n.Arg(1))
	for i := 2; i < n.NArgs(); i++ {
		opt := n.Arg(i)
		switch opt {
		case "id", "port", "ttl", "maxlen":
			i++
			hi := map[string]int64{"id": 255, "port": 65535, "ttl": 255, "maxlen": 65507}[opt]
			v, err := strconv.ParseInt(n.Arg(i), 10, 64)
			if err != nil || v < 0 || v > hi {
				m.bad(n, "%s %q is out of range (0-%d); ignored", opt, n.Arg(i), hi)
				continue
			}
			switch opt {
			case "id":
				sd.SyncID = int(v)
			case "port":
				sd.Port = int(v)
			case "ttl":
				sd.TTL = int(v)
			default:
				m.notes.Unmapped(n.Pos, importer.Info, "maxlen", "not mapped: lvsbox leaves the sync message length to the kernel")
			}
		case "group":
			i++
			if a, ok := parseAddr(n.Arg(i)); ok {
				sd.MulticastGroup = a
			} else {
				m.bad(n, "group %q is not an IP address; ignored", n.Arg(i))
			}
		default:
			m.notes.Unmapped(n.Pos, importer.Warning, opt, "not an lvs_sync_daemon option lvsbox knows; ignored")
		}
	}
}

// staticAddresses maps static_ipaddress lines to interface addresses.
func (m *mapper) staticAddresses(n *Node) {
	for _, c := range n.Block {
		p, dev, ok := m.addressLine(c)
		if !ok {
			continue
		}
		if dev == "" {
			m.bad(c, "a static address needs a device (dev IF); ignored")
			continue
		}
		m.iface(dev, c, "static_ipaddress")
		if !m.ifaces.AddAddress(dev, p) {
			m.warn(c, "%s is listed twice on %s; the repetition is ignored", p, dev)
		}
	}
}

// staticRoutes maps static_routes lines to routes.
func (m *mapper) staticRoutes(n *Node) {
	for _, c := range n.Block {
		r, ok := m.routeLine(c, "static_routes")
		if !ok {
			continue
		}
		key := fmt.Sprintf("%d %s %d", r.Table, r.Destination, r.Metric)
		if m.routeKeys[key] {
			m.warn(c, "a route to %s (table %d, metric %d) is already listed; the repetition is ignored", r.Destination, r.Table, r.Metric)
			continue
		}
		m.routeKeys[key] = true
		m.origins.Set(fmt.Sprintf("routes[%d]", len(m.cfg.Routes)), c.Pos)
		m.cfg.Routes = append(m.cfg.Routes, r)
	}
}

// addressLine parses "ADDR[/LEN] [dev IF] [options]" (virtual_ipaddress,
// static_ipaddress). Options lvsbox does not have are reported.
func (m *mapper) addressLine(n *Node) (netip.Prefix, string, bool) {
	p, ok := parseHostPrefix(n.Keyword())
	if !ok {
		m.bad(n, "%q is not an IP address (with an optional /prefix-length); ignored", n.Keyword())
		return netip.Prefix{}, "", false
	}
	dev := ""
	for i := 0; i < n.NArgs(); i++ {
		opt := n.Arg(i)
		switch opt {
		case "dev":
			i++
			dev = n.Arg(i)
		case "label":
			i++
			m.notes.Unmapped(n.Pos, importer.Info, opt, "not mapped: lvsbox puts no labels on addresses (label %s only names the address for ifconfig)", n.Arg(i))
		case "brd", "broadcast":
			i++
			m.notes.Unmapped(n.Pos, importer.Info, opt, "not mapped: the kernel derives the broadcast address from the prefix")
		case "scope", "peer", "preferred_lft", "valid_lft":
			i++
			m.notes.Unmapped(n.Pos, importer.Warning, opt, "not mapped: lvsbox adds addresses with the kernel's defaults for %s", opt)
		case "home", "-nodad", "nodad", "noprefixroute", "autojoin", "no_track", "mngtmpaddr":
			m.notes.Unmapped(n.Pos, importer.Warning, opt, "not mapped: lvsbox adds addresses with the kernel's default flags")
		default:
			m.notes.Unmapped(n.Pos, importer.Warning, opt, "not an address option keepalived knows; ignored")
		}
	}
	return p, dev, true
}

var routeTypes = map[string]bool{"unicast": true, "blackhole": true, "unreachable": true, "prohibit": true, "throw": true, "local": true, "broadcast": true, "multicast": true, "anycast": true, "nat": true}

// routeLine parses one route of static_routes or virtual_routes:
// "[src ADDR] [TYPE] DEST [via|gw ADDR] [dev IF] [table T] [metric N] [options]".
func (m *mapper) routeLine(n *Node, where string) (config.Route, bool) {
	var r config.Route
	words := make([]string, 0, len(n.Words))
	for _, w := range n.Words {
		words = append(words, w.Text)
	}
	dest := ""
	for i := 0; i < len(words); i++ {
		w := words[i]
		next := func() string {
			i++
			if i < len(words) {
				return words[i]
			}
			return ""
		}
		switch {
		case w == "src":
			m.notes.Unmapped(n.Pos, importer.Warning, w, "not mapped: lvsbox routes carry no preferred source address (src %s)", next())
		case routeTypes[w] && dest == "":
			if w != "unicast" {
				m.drop(n, importer.Warning, "not mapped: lvsbox has only unicast routes (this is a %s route); route ignored", w)
				return r, false
			}
		case dest == "":
			dest = w
		case w == "via" || w == "gw":
			v := next()
			if v == "inet" || v == "inet6" {
				v = next()
			}
			a, ok := parseAddr(v)
			if !ok {
				m.bad(n, "gateway %q is not an IP address; route ignored", v)
				return r, false
			}
			r.Gateway = a
		case w == "or":
			m.notes.Unmapped(n.Pos, importer.Warning, w, "not mapped: lvsbox has no multipath routes; route ignored")
			return r, false
		case w == "dev" || w == "oif":
			r.Device = next()
		case w == "table":
			v := next()
			t, ok := routeTable(v)
			if !ok {
				m.bad(n, "table %q is not a table number (table names from rt_tables are not read); route ignored", v)
				return r, false
			}
			r.Table = t
		case w == "metric" || w == "preference" || w == "priority":
			s := next()
			v, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				m.bad(n, "metric %q is not a number; route ignored", s)
				return r, false
			}
			r.Metric = uint32(v)
		case w == "onlink" || w == "no_track" || w == "pervasive":
			m.notes.Unmapped(n.Pos, importer.Warning, w, "not mapped: lvsbox routes have no %s flag", w)
		default:
			m.notes.Unmapped(n.Pos, importer.Warning, w, "not mapped: lvsbox routes have a destination, gateway, device, table and metric only (%s %s ignored)", w, next())
		}
	}
	switch dest {
	case "default", "all", "any":
		r.Destination = netip.MustParsePrefix("0.0.0.0/0")
		if r.Gateway.Is6() {
			r.Destination = netip.MustParsePrefix("::/0")
		}
	default:
		p, ok := parseHostPrefix(dest)
		if !ok {
			m.bad(n, "%q is not a route destination; route ignored", dest)
			return r, false
		}
		if p != p.Masked() {
			m.warn(n, "%s has host bits set; the route is to %s", p, p.Masked())
		}
		r.Destination = p.Masked()
	}
	if r.Device != "" {
		m.iface(r.Device, n, where)
	}
	if !r.Gateway.IsValid() && r.Device == "" {
		m.bad(n, "a route needs a gateway (via) or a device (dev); route ignored")
		return r, false
	}
	return r, true
}

// routeTable parses a table number or one of the standard names.
func routeTable(s string) (uint32, bool) {
	switch s {
	case "main":
		return 0, true
	case "local":
		return 255, true
	case "default":
		return 253, true
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	if v == config.TableMain {
		v = 0
	}
	return uint32(v), true
}

// validHostname mirrors the configuration's rule for system.hostname.
func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 64 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}
