package keepalived

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// origin records where a field of a list element came from, under both the
// element's name and its index (validation paths use either).
func (m *mapper) origin(list string, i int, name, sub string, p importer.Pos) {
	m.origins.Set(fmt.Sprintf("%s[%s]%s", list, name, sub), p)
	m.origins.Set(fmt.Sprintf("%s[%d]%s", list, i, sub), p)
}

// vrrpScript maps a vrrp_script block.
func (m *mapper) vrrpScript(n *Node) {
	if n.NArgs() != 1 {
		m.bad(n, "vrrp_script needs exactly one name; block ignored")
		return
	}
	kname := n.Arg(0)
	if si := m.scripts[kname]; si != nil && si.defined {
		m.bad(n, "vrrp_script %s is already defined; keepalived ignores this block too", kname)
		return
	}
	name, changed := importer.SafeName(kname)
	sc := config.VRRPScript{Name: name}
	weight := 0
	for _, c := range n.Block {
		switch c.Keyword() {
		case "script":
			if path, args, ok := m.scriptPath(c); ok {
				sc.Path, sc.Args = path, args
			}
		case "interval":
			if d, ok := m.timerArg(c, 0); ok {
				sc.Interval = d
			}
		case "timeout":
			if d, ok := m.timerArg(c, 0); ok {
				sc.Timeout = d
			}
		case "weight":
			if v, ok := m.intArg(c, 0, -253, 253); ok {
				weight = int(v)
			}
			if c.Arg(1) == "reverse" {
				m.notes.Unmapped(c.Pos, importer.Warning, "reverse", "not mapped: lvsbox applies a positive weight while the script succeeds and a negative one while it fails; reverse has no equivalent")
			}
		case "rise":
			if v, ok := m.uintArg(c, 0, 1, 1000); ok {
				sc.Rise = int(v)
			}
		case "fall":
			if v, ok := m.uintArg(c, 0, 1, 1000); ok {
				sc.Fall = int(v)
			}
		default:
			m.other(c, blockScript)
		}
	}
	if sc.Path == "" {
		m.fail(n, "vrrp_script %s has no usable script; keepalived drops it, and so does the import (instances tracking it lose that tracking)", kname)
		m.scripts[kname] = &scriptInfo{}
		return
	}
	sc.Name = m.scriptNames.Unique(name)
	if changed || sc.Name != name {
		m.info(n, "vrrp_script %q is named %q in lvsbox (names are letters, digits, '-', '_' and '.')", kname, sc.Name)
	}
	m.scripts[kname] = &scriptInfo{name: sc.Name, weight: weight, defined: true}
	m.origin("vrrp_scripts", len(m.cfg.VRRPScripts), sc.Name, "", n.Pos)
	m.cfg.VRRPScripts = append(m.cfg.VRRPScripts, sc)
}

// instanceSettings are the keepalived settings of one instance before keepalived's
// defaults and consistency rules are applied.
type instanceSettings struct {
	version, priority    int
	state                string
	nopreempt            bool
	accept, strict       *bool
	preemptDelay         config.Duration
	preemptDelayAt       *Node
	authType, authPass   string
	authAt               *Node
	unicastSrc, mcastSrc netip.Addr
	srcAt                *Node
	vips, evips          []*Node
}

// vrrpInstance maps a vrrp_instance block.
func (m *mapper) vrrpInstance(n *Node) {
	if n.NArgs() != 1 {
		m.bad(n, "vrrp_instance needs exactly one name; block ignored")
		return
	}
	kname := n.Arg(0)
	if _, dup := m.instances[kname]; dup {
		m.bad(n, "vrrp_instance %s is already defined; keepalived ignores this block too", kname)
		return
	}
	name, changed := importer.SafeName(kname)
	in := config.VRRPInstance{Name: m.instanceNames.Unique(name)}
	if changed || in.Name != name {
		m.info(n, "vrrp_instance %q is named %q in lvsbox (names are letters, digits, '-', '_' and '.')", kname, in.Name)
	}
	idx := len(m.cfg.VRRPInstances)
	at := func(sub string, p importer.Pos) { m.origin("vrrp_instances", idx, in.Name, sub, p) }
	at("", n.Pos)
	var s instanceSettings
	for _, c := range n.Block {
		switch kw := c.Keyword(); kw {
		case "interface":
			if m.needArgs(c, 1) {
				in.Interface = c.Arg(0)
				at(".interface", c.Pos)
				m.iface(in.Interface, n, "vrrp_instance "+in.Name)
			}
		case "virtual_router_id":
			if v, ok := m.uintArg(c, 0, 1, 255); ok {
				in.VRID = int(v)
				at(".vrid", c.Pos)
			}
		case "priority":
			if v, ok := m.uintArg(c, 0, 1, 255); ok {
				s.priority = int(v)
				at(".priority", c.Pos)
			}
		case "state":
			switch c.Arg(0) {
			case "MASTER", "BACKUP":
				s.state = c.Arg(0)
			default:
				m.bad(c, "%q is not a state (MASTER or BACKUP); keepalived takes BACKUP", c.Arg(0))
			}
		case "advert_int":
			if d, ok := m.timerArg(c, 0); ok {
				in.AdvertInterval = d
				at(".advert_interval", c.Pos)
			}
		case "version":
			if v, ok := m.uintArg(c, 0, 2, 3); ok {
				s.version = int(v)
			}
		case "nopreempt", "preempt":
			s.nopreempt = kw == "nopreempt"
		case "preempt_delay":
			if d, ok := m.timerArg(c, 0); ok {
				s.preemptDelay, s.preemptDelayAt = d, c
			}
		case "accept", "no_accept":
			s.accept = new(kw == "accept")
		case "strict_mode":
			if v, ok := m.flagArg(c); ok {
				s.strict = &v
			}
		case "authentication":
			m.authentication(c, &s)
		case "virtual_ipaddress":
			s.vips = append(s.vips, c.Block...)
		case "virtual_ipaddress_excluded":
			s.evips = append(s.evips, c.Block...)
		case "virtual_routes":
			for _, r := range c.Block {
				if rt, ok := m.routeLine(r, "virtual_routes of vrrp_instance "+kname); ok {
					at(fmt.Sprintf(".virtual_routes[%d]", len(in.VirtualRoutes)), r.Pos)
					in.VirtualRoutes = append(in.VirtualRoutes, rt)
				}
			}
		case "track_interface":
			for _, t := range c.Block {
				m.trackInterface(&in, t, "vrrp_instance "+kname, at)
			}
		case "track_script":
			for _, t := range c.Block {
				m.trackScript(&in, t, at)
			}
		case "unicast_src_ip", "mcast_src_ip":
			if a, ok := m.addrArg(c, 0); ok {
				if kw == "unicast_src_ip" {
					s.unicastSrc = a
				} else {
					s.mcastSrc = a
				}
				s.srcAt = c
			}
		case "unicast_peer":
			for _, p := range c.Block {
				m.unicastPeer(&in, p, at)
			}
		case "use_vmac":
			in.VMAC = true
			if c.NArgs() > 0 {
				m.drop(c, importer.Info, "not mapped: lvsbox names the VMAC device and chooses its MAC (00:00:5e:00:01:VRID) itself (%v ignored)", argTexts(c))
			}
		case "garp_master_repeat":
			if v, ok := m.uintArg(c, 0, 1, 100); ok {
				in.GARP.Count = int(v)
			}
		case "garp_master_refresh":
			if d, ok := m.timerArg(c, 0); ok {
				in.GARP.Refresh = d
			}
		case "lvs_sync_daemon_interface":
			if m.needArgs(c, 1) {
				m.syncDaemonInterface(c)
			}
		default:
			m.other(c, blockInstance)
		}
	}
	m.completeInstance(n, &in, &s, at)
	m.instances[kname] = idx
	m.cfg.VRRPInstances = append(m.cfg.VRRPInstances, in)
}

func argTexts(n *Node) []string {
	out := make([]string, 0, n.NArgs())
	for _, w := range n.Args() {
		out = append(out, w.Text)
	}
	return out
}

// authentication maps the authentication block (applied in completeInstance).
func (m *mapper) authentication(n *Node, s *instanceSettings) {
	s.authAt = n
	for _, c := range n.Block {
		switch c.Keyword() {
		case "auth_type":
			switch c.Arg(0) {
			case "PASS", "AH":
				s.authType = c.Arg(0)
			default:
				m.bad(c, "%q is not an authentication type (PASS or AH)", c.Arg(0))
			}
		case "auth_pass":
			if m.needArgs(c, 1) {
				s.authPass = c.Arg(0)
			}
		default:
			m.other(c, "authentication")
		}
	}
}

// syncDaemonInterface maps the instance keyword lvs_sync_daemon_interface.
func (m *mapper) syncDaemonInterface(c *Node) {
	sd := &m.cfg.IPVS.SyncDaemon
	if sd.Enabled && sd.Interface != c.Arg(0) {
		m.bad(c, "the sync daemon already uses %s; lvsbox runs one sync daemon", sd.Interface)
		return
	}
	sd.Enabled, sd.Interface = true, c.Arg(0)
	m.origins.Set("ipvs.sync_daemon", c.Pos)
	m.iface(c.Arg(0), c, "lvs_sync_daemon_interface")
	m.info(c, "mapped to ipvs.sync_daemon on %s; lvsbox runs the sync daemon as master and backup on every node (keepalived switches it with this instance's state)", c.Arg(0))
}

// trackInterface maps "IF [weight N [reverse]]".
func (m *mapper) trackInterface(in *config.VRRPInstance, t *Node, who string, at func(string, importer.Pos)) {
	name := t.Keyword()
	if slices.ContainsFunc(in.TrackInterfaces, func(o config.TrackInterface) bool { return o.Interface == name }) {
		m.warn(t, "interface %s is already tracked by %s; the repetition is ignored", name, in.Name)
		return
	}
	ti := config.TrackInterface{Interface: name}
	if !m.trackWeight(t, &ti.Weight) {
		return
	}
	m.iface(name, t, "track_interface of "+who)
	at(fmt.Sprintf(".track_interfaces[%d]", len(in.TrackInterfaces)), t.Pos)
	in.TrackInterfaces = append(in.TrackInterfaces, ti)
}

// trackScript maps "NAME [weight N [reverse]]".
func (m *mapper) trackScript(in *config.VRRPInstance, t *Node, at func(string, importer.Pos)) {
	si := m.scripts[t.Keyword()]
	switch {
	case si == nil:
		m.drop(t, importer.Warning, "not mapped: there is no vrrp_script %s (keepalived ignores this tracking too)", t.Keyword())
		return
	case !si.defined:
		m.drop(t, importer.Warning, "not mapped: vrrp_script %s was dropped (see above)", t.Keyword())
		return
	case slices.ContainsFunc(in.TrackScripts, func(o config.TrackScript) bool { return o.Script == si.name }):
		m.warn(t, "vrrp_script %s is already tracked by %s; the repetition is ignored", t.Keyword(), in.Name)
		return
	}
	ts := config.TrackScript{Script: si.name, Weight: si.weight}
	if !m.trackWeight(t, &ts.Weight) {
		return
	}
	at(fmt.Sprintf(".track_scripts[%d]", len(in.TrackScripts)), t.Pos)
	in.TrackScripts = append(in.TrackScripts, ts)
}

// trackWeight reads the optional "weight N [reverse]" of a tracking line into w.
func (m *mapper) trackWeight(t *Node, w *int) bool {
	switch t.Arg(0) {
	case "":
		return true
	case "weight":
		v, ok := m.intArg(t, 1, -254, 254)
		if !ok {
			return false
		}
		*w = int(v)
		if t.Arg(2) == "reverse" {
			m.notes.Unmapped(t.Pos, importer.Warning, "reverse", "not mapped: lvsbox adds a positive weight while up and a negative one while down; reverse has no equivalent")
		}
		return true
	}
	m.bad(t, "%q: expected \"weight N\"; ignored", t.Arg(0))
	return false
}

// unicastPeer maps "ADDR [min_ttl N] [max_ttl N]".
func (m *mapper) unicastPeer(in *config.VRRPInstance, p *Node, at func(string, importer.Pos)) {
	a, ok := parseAddr(p.Keyword())
	if !ok {
		m.bad(p, "%q is not an IP address; peer ignored", p.Keyword())
		return
	}
	if slices.Contains(in.UnicastPeers, a) {
		m.warn(p, "peer %s is listed twice; the repetition is ignored", a)
		return
	}
	if p.NArgs() > 0 {
		m.drop(p, importer.Warning, "not mapped: lvsbox does not check the TTL of unicast adverts (%v ignored)", argTexts(p))
	}
	at(fmt.Sprintf(".unicast_peers[%d]", len(in.UnicastPeers)), p.Pos)
	in.UnicastPeers = append(in.UnicastPeers, a)
}

// syncGroup maps a vrrp_sync_group block.
func (m *mapper) syncGroup(n *Node) {
	if n.NArgs() != 1 {
		m.bad(n, "vrrp_sync_group needs exactly one name; block ignored")
		return
	}
	name, _ := importer.SafeName(n.Arg(0))
	g := config.VRRPSyncGroup{Name: m.groupNames.Unique(name)}
	if g.Name != n.Arg(0) {
		m.info(n, "vrrp_sync_group %q is named %q in lvsbox", n.Arg(0), g.Name)
	}
	var tracks []*Node
	for _, c := range n.Block {
		switch c.Keyword() {
		case "group":
			for _, mem := range c.Block {
				m.syncMember(&g, mem)
			}
		case "track_interface", "track_script":
			tracks = append(tracks, c)
		default:
			if _, ok := m.instances[c.Keyword()]; ok && c.NArgs() == 0 && !c.HasBlock {
				m.drop(c, importer.Warning, "not mapped: members of a sync group go in a group { } block; keepalived ignores this line too")
				continue
			}
			m.other(c, blockSync)
		}
	}
	if len(g.Members) == 0 {
		m.drop(n, importer.Warning, "not mapped: sync group %s has no members", n.Arg(0))
		return
	}
	m.origin("vrrp_sync_groups", len(m.cfg.VRRPSyncGroups), g.Name, "", n.Pos)
	m.cfg.VRRPSyncGroups = append(m.cfg.VRRPSyncGroups, g)
	for _, c := range tracks {
		m.info(c, "sync group tracking is copied into each member instance (%v)", g.Members)
		for _, member := range g.Members {
			idx := slices.IndexFunc(m.cfg.VRRPInstances, func(in config.VRRPInstance) bool { return in.Name == member })
			in := &m.cfg.VRRPInstances[idx]
			at := func(sub string, p importer.Pos) { m.origin("vrrp_instances", idx, in.Name, sub, p) }
			for _, t := range c.Block {
				if c.Keyword() == "track_interface" {
					m.trackInterface(in, t, "vrrp_sync_group "+n.Arg(0), at)
				} else {
					m.trackScript(in, t, at)
				}
			}
		}
	}
}

func (m *mapper) syncMember(g *config.VRRPSyncGroup, mem *Node) {
	idx, ok := m.instances[mem.Keyword()]
	if !ok {
		m.drop(mem, importer.Warning, "not mapped: there is no vrrp_instance %s (keepalived ignores it too)", mem.Keyword())
		return
	}
	name := m.cfg.VRRPInstances[idx].Name
	for _, other := range m.cfg.VRRPSyncGroups {
		if slices.Contains(other.Members, name) {
			m.drop(mem, importer.Error, "not mapped: vrrp_instance %s is already in sync group %s", mem.Keyword(), other.Name)
			return
		}
	}
	if slices.Contains(g.Members, name) {
		m.warn(mem, "vrrp_instance %s is listed twice; the repetition is ignored", mem.Keyword())
		return
	}
	g.Members = append(g.Members, name)
}
