package ipvsadm

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// server replays -a, -e and -d. Like ipvsadm, -e sets every setting of the real
// server: the ones not given go back to their defaults (-g, weight 1).
func (t *table) server(c command, get func(string) (option, bool)) bool {
	k, ok := t.serviceKey(c, get)
	if !ok {
		return false
	}
	i := t.find(k)
	if i < 0 {
		t.unmapped(c, importer.Error, c.cmd.word, "there is no service %s (ipvsadm fails too); line ignored", k)
		return false
	}
	s := t.svcs[i]
	o, ok := get("real-server")
	if !ok {
		t.unmapped(c, importer.Error, c.cmd.word, "no real server (-r); line ignored")
		return false
	}
	a, port, ok := t.hostPort(c, o, k.port)
	if !ok {
		return false
	}
	j := slices.IndexFunc(s.reals, func(r *realState) bool { return r.addr == a && r.port == port })
	switch c.cmd.name {
	case "delete-server":
		if j < 0 {
			t.unmapped(c, importer.Error, c.cmd.word, "there is no real server %s in %s to delete (ipvsadm fails too)", netip.AddrPortFrom(a, uint16(port)), k)
			return false
		}
		s.reals = slices.Delete(s.reals, j, j+1)
		return true
	case "add-server":
		if j >= 0 {
			t.unmapped(c, importer.Error, c.cmd.word, "real server %s already exists in %s (ipvsadm fails too); line ignored", netip.AddrPortFrom(a, uint16(port)), k)
			return false
		}
	case "edit-server":
		if j < 0 {
			t.unmapped(c, importer.Error, c.cmd.word, "there is no real server %s in %s to edit (ipvsadm fails too); line ignored", netip.AddrPortFrom(a, uint16(port)), k)
			return false
		}
	}
	r := &realState{addr: a, port: port, fwd: config.ForwardingDR, weight: config.DefaultWeight, pos: c.pos}
	for _, f := range []struct {
		opt string
		fwd config.Forwarding
	}{{"gatewaying", config.ForwardingDR}, {"ipip", config.ForwardingTun}, {"masquerading", config.ForwardingNAT}} {
		if _, ok := get(f.opt); ok {
			r.fwd = f.fwd
		}
	}
	if o, ok := get("weight"); ok {
		if v, ok := t.number(c, o, 0, 65535); ok {
			r.weight = int(v)
		}
	}
	if o, ok := get("u-threshold"); ok {
		if v, ok := t.number(c, o, 0, 1<<32-1); ok {
			r.upper = uint32(v)
		}
	}
	if o, ok := get("l-threshold"); ok {
		if v, ok := t.number(c, o, 0, 1<<32-1); ok {
			r.lower = uint32(v)
		}
	}
	t.tunnel(c, get, r)
	if j >= 0 {
		s.reals[j] = r
		return true
	}
	s.reals = append(s.reals, r)
	return true
}

// tunnel reads --tun-type, --tun-port and the checksum options.
func (t *table) tunnel(c command, get func(string) (option, bool), r *realState) {
	var tun config.Tunnel
	if o, ok := get("tun-type"); ok {
		switch typ := config.TunnelType(o.val); typ {
		case config.TunnelIPIP, config.TunnelGUE, config.TunnelGRE:
			tun.Type = typ
		default:
			t.unmapped(c, importer.Error, o.word, "%q is not a tunnel type (ipip, gue or gre); ignored", o.val)
		}
	}
	if o, ok := get("tun-port"); ok {
		if v, ok := t.number(c, o, 1, 65535); ok {
			tun.Port = int(v)
		}
	}
	for _, opt := range []string{"tun-nocsum", "tun-csum", "tun-remcsum"} {
		if o, ok := get(opt); ok {
			t.unmapped(c, importer.Warning, o.word, "not mapped: lvsbox leaves the tunnel checksum mode at the kernel's default")
		}
	}
	if tun == (config.Tunnel{}) {
		return
	}
	if r.fwd != config.ForwardingTun {
		t.unmapped(c, importer.Warning, "--tun-type", "tunnel settings apply only to -i (tunnel) forwarding; ignored")
		return
	}
	if tun.Type == config.TunnelIPIP || tun.Type == "" && tun.Port == 0 {
		return
	}
	r.tun = &tun
}

func (t *table) number(c command, o option, lo, hi uint64) (uint64, bool) {
	v, err := strconv.ParseUint(o.val, 10, 64)
	if err != nil || v < lo || v > hi {
		t.unmapped(c, importer.Error, o.word, "%q is not a number in %d-%d; ignored", o.val, lo, hi)
		return 0, false
	}
	return v, true
}

// timeouts replays --set TCP TCPFIN UDP (0 keeps a timeout as it is).
func (t *table) timeouts(c command) {
	vals := strings.Fields(c.cmd.val)
	if len(vals) != 3 {
		t.unmapped(c, importer.Error, c.cmd.word, "--set takes three timeouts (tcp tcpfin udp); line ignored")
		return
	}
	dst := []*config.Duration{&t.ipvs.Timeouts.TCP, &t.ipvs.Timeouts.TCPFin, &t.ipvs.Timeouts.UDP}
	for i, v := range vals {
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil {
			t.unmapped(c, importer.Error, c.cmd.word, "%q is not a number of seconds; ignored", v)
			continue
		}
		if n > 0 {
			*dst[i] = config.Duration(n) * config.Duration(1e9)
		}
	}
}

// daemon replays --start-daemon and --stop-daemon.
func (t *table) daemon(c command, get func(string) (option, bool)) bool {
	state := c.cmd.val
	if state != "master" && state != "backup" {
		t.unmapped(c, importer.Error, c.cmd.word, "%q is neither master nor backup; line ignored", state)
		return false
	}
	sd := &t.ipvs.SyncDaemon
	if c.cmd.name == "stop-daemon" {
		sd.Enabled = false
		t.note(c, importer.Info, c.cmd.word, "turns the sync daemon off (lvsbox runs master and backup together)")
		for _, o := range []string{"mcast-interface", "syncid", "sync-maxlen", "mcast-group", "mcast-port", "mcast-ttl"} {
			get(o)
		}
		return true
	}
	sd.Enabled = true
	t.sdPos = c.pos
	t.note(c, importer.Info, c.cmd.word, "mapped to ipvs.sync_daemon; lvsbox runs the %s and the other daemon together on every node", state)
	if o, ok := get("mcast-interface"); ok {
		sd.Interface = o.val
		if t.ifaces.Ensure(o.val) {
			t.note(c, importer.Info, o.word, "interface %s added to interfaces (role data: lvsbox turns GRO/LRO off on it); check role and addresses", o.val)
		}
	}
	if o, ok := get("syncid"); ok {
		if v, ok := t.number(c, o, 0, 255); ok {
			sd.SyncID = int(v)
		}
	}
	if o, ok := get("mcast-group"); ok {
		if a, err := netip.ParseAddr(o.val); err == nil {
			sd.MulticastGroup = a
		} else {
			t.unmapped(c, importer.Error, o.word, "%q is not an IP address; ignored", o.val)
		}
	}
	if o, ok := get("mcast-port"); ok {
		if v, ok := t.number(c, o, 1, 65535); ok {
			sd.Port = int(v)
		}
	}
	if o, ok := get("mcast-ttl"); ok {
		if v, ok := t.number(c, o, 1, 255); ok {
			sd.TTL = int(v)
		}
	}
	if o, ok := get("sync-maxlen"); ok {
		t.unmapped(c, importer.Info, o.word, "not mapped: lvsbox leaves the sync message length to the kernel")
	}
	return true
}

// build turns the replayed table into the configuration.
func (t *table) build(origins importer.Origins) config.Config {
	c := config.Config{IPVS: t.ipvs}
	if t.ipvs.SyncDaemon.Enabled || t.ipvs.SyncDaemon.Interface != "" {
		origins.Set("ipvs.sync_daemon", t.sdPos)
	}
	names := importer.Namer{}
	for _, s := range t.svcs {
		vs := s.vs
		if vs.IsFwmark() {
			vs.Name = names.Unique(importer.FwmarkName(vs.Fwmark, s.key.family))
		} else {
			vs.Name = names.Unique(importer.ServiceName(vs.Protocol, vs.Address, vs.Port))
		}
		idx := len(c.VirtualServices)
		set := func(sub string, p importer.Pos) {
			origins.Set(fmt.Sprintf("virtual_services[%s]%s", vs.Name, sub), p)
			origins.Set(fmt.Sprintf("virtual_services[%d]%s", idx, sub), p)
		}
		set("", s.pos)
		vs.Forwarding = config.ForwardingDR
		if len(s.reals) > 0 {
			vs.Forwarding = s.reals[0].fwd
		}
		seen := map[netip.AddrPort]bool{}
		for _, r := range s.reals {
			rs := config.RealServer{Address: r.addr, Port: r.port, Weight: new(r.weight), UpperThreshold: r.upper, LowerThreshold: r.lower}
			if r.fwd != vs.Forwarding {
				rs.Forwarding = r.fwd
			}
			if r.fwd != config.ForwardingNAT && rs.Port != vs.Port {
				if rs.Port != 0 {
					t.notes.Add(r.pos, importer.Warning, "-r", "%s forwarding cannot change the port; the real server gets the service's port %d (the kernel ignores %d too)", r.fwd, vs.Port, rs.Port)
				}
				rs.Port = 0
			}
			if r.fwd == config.ForwardingTun {
				rs.Tunnel = r.tun
			}
			eff := rs.Port
			if eff == 0 {
				eff = vs.Port
			}
			key := netip.AddrPortFrom(rs.Address, uint16(eff))
			if seen[key] {
				t.notes.Unmapped(r.pos, importer.Warning, "-r", "not mapped: %s is the same real server as one above once the port is the service's", key)
				continue
			}
			seen[key] = true
			set(fmt.Sprintf(".real_servers[%d]", len(vs.RealServers)), r.pos)
			vs.RealServers = append(vs.RealServers, rs)
		}
		c.VirtualServices = append(c.VirtualServices, vs)
	}
	c.Interfaces = t.ifaces.List()
	return c
}
