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

// svcKey identifies an IPVS service as ipvsadm does.
type svcKey struct {
	proto  config.Protocol // "" for fwmark services
	addr   netip.Addr
	port   int
	mark   uint32
	family config.Family
}

func (k svcKey) String() string {
	if k.mark != 0 {
		return fmt.Sprintf("fwmark %d (%s)", k.mark, k.family)
	}
	return fmt.Sprintf("%s/%s", k.proto, netip.AddrPortFrom(k.addr, uint16(k.port)))
}

type realState struct {
	addr   netip.Addr
	port   int
	fwd    config.Forwarding
	weight int
	upper  uint32
	lower  uint32
	tun    *config.Tunnel
	pos    importer.Pos
}

type svcState struct {
	key   svcKey
	vs    config.VirtualService
	pos   importer.Pos
	reals []*realState
}

// table replays ipvsadm commands.
type table struct {
	notes  *importer.Notes
	svcs   []*svcState
	ipvs   config.IPVS
	ifaces importer.Interfaces
	sdPos  importer.Pos
}

func (t *table) find(k svcKey) int {
	return slices.IndexFunc(t.svcs, func(s *svcState) bool { return s.key == k })
}

func (t *table) note(c command, sev importer.Severity, kw, format string, args ...any) {
	t.notes.Add(c.pos, sev, kw, format, args...)
}

func (t *table) unmapped(c command, sev importer.Severity, kw, format string, args ...any) {
	t.notes.Unmapped(c.pos, sev, kw, format, args...)
}

// apply replays one command.
func (t *table) apply(c command) {
	used := map[string]bool{}
	get := func(name string) (option, bool) {
		used[name] = true
		return c.get(name)
	}
	ok := true
	switch c.cmd.name {
	case "add-service", "edit-service":
		ok = t.service(c, get)
	case "delete-service":
		var k svcKey
		if k, ok = t.serviceKey(c, get); ok {
			if i := t.find(k); i >= 0 {
				t.svcs = slices.Delete(t.svcs, i, i+1)
			} else {
				t.unmapped(c, importer.Error, c.cmd.word, "there is no service %s to delete (ipvsadm fails too)", k)
				ok = false
			}
		}
	case "clear":
		if len(t.svcs) > 0 {
			t.note(c, importer.Info, c.cmd.word, "clears the %d services defined above", len(t.svcs))
		}
		t.svcs = nil
	case "add-server", "edit-server", "delete-server":
		ok = t.server(c, get)
	case "set":
		t.timeouts(c)
	case "start-daemon", "stop-daemon":
		ok = t.daemon(c, get)
	case "restore":
		t.unmapped(c, importer.Error, c.cmd.word, "-R reads rules from standard input; import the rules file itself")
		return
	default:
		t.note(c, importer.Info, c.cmd.word, "not a rule (it lists, saves, zeroes or prints); ignored")
		return
	}
	if !ok {
		return
	}
	for _, o := range c.opts {
		if !used[o.name] {
			t.unmapped(c, importer.Info, o.word, "has no effect with %s; ignored", c.cmd.word)
		}
	}
}

// serviceKey reads -t/-u/--sctp-service/-f (and -6).
func (t *table) serviceKey(c command, get func(string) (option, bool)) (svcKey, bool) {
	var k svcKey
	n := 0
	for _, o := range c.opts {
		switch o.name {
		case "tcp-service", "udp-service", "sctp-service", "fwmark-service":
			n++
		}
	}
	if n > 1 {
		t.unmapped(c, importer.Error, c.cmd.word, "more than one service on one line; line ignored")
		return k, false
	}
	for _, p := range []struct {
		opt   string
		proto config.Protocol
	}{{"tcp-service", config.ProtocolTCP}, {"udp-service", config.ProtocolUDP}, {"sctp-service", config.ProtocolSCTP}, {"fwmark-service", ""}} {
		o, ok := get(p.opt)
		if !ok {
			continue
		}
		if p.proto == "" {
			v, err := strconv.ParseUint(o.val, 0, 32)
			if err != nil || v == 0 {
				t.unmapped(c, importer.Error, o.word, "%q is not a firewall mark (1-4294967295); line ignored", o.val)
				return k, false
			}
			k.mark, k.family = uint32(v), config.FamilyIPv4
			if _, v6 := get("ipv6"); v6 {
				k.family = config.FamilyIPv6
			}
			continue
		}
		a, port, ok := t.hostPort(c, o, 0)
		if !ok {
			return k, false
		}
		k.proto, k.addr, k.port = p.proto, a, port
	}
	switch {
	case n == 0:
		t.unmapped(c, importer.Error, c.cmd.word, "no service (-t, -u, --sctp-service or -f); line ignored")
		return k, false
	}
	if _, v6 := c.get("ipv6"); v6 && k.mark == 0 {
		t.unmapped(c, importer.Info, "-6", "only fwmark services need -6 (the address gives the family); ignored")
	}
	return k, true
}

// hostPort parses ADDR, ADDR:PORT or [ADDR6]:PORT; def is the port when none is
// given.
func (t *table) hostPort(c command, o option, def int) (netip.Addr, int, bool) {
	s := o.val
	if strings.Contains(s, "$") {
		t.unmapped(c, importer.Error, o.word, "%q uses a shell variable: this is a shell script, not ipvsadm -S output; expand the variables first; line ignored", s)
		return netip.Addr{}, 0, false
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			t.unmapped(c, importer.Error, o.word, "%q: missing ']'; line ignored", s)
			return netip.Addr{}, 0, false
		}
		host, port = s[1:end], strings.TrimPrefix(s[end+1:], ":")
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		t.unmapped(c, importer.Error, o.word, "%q is not an IP address; host names are not resolved (save the rules with ipvsadm -Sn); line ignored", host)
		return netip.Addr{}, 0, false
	}
	if port == "" {
		return a.Unmap(), def, true
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		v, known := wellKnownPorts[port]
		if !known {
			t.unmapped(c, importer.Error, o.word, "port %q is neither a number nor a service name the importer knows (save the rules with ipvsadm -Sn); line ignored", port)
			return netip.Addr{}, 0, false
		}
		p = uint64(v)
	}
	return a.Unmap(), int(p), true
}

// service replays -A and -E. Like ipvsadm, -E sets every service setting: the ones
// not given go back to their defaults.
func (t *table) service(c command, get func(string) (option, bool)) bool {
	k, ok := t.serviceKey(c, get)
	if !ok {
		return false
	}
	i := t.find(k)
	edit := c.cmd.name == "edit-service"
	switch {
	case edit && i < 0:
		t.unmapped(c, importer.Error, c.cmd.word, "there is no service %s to edit (ipvsadm fails too); line ignored", k)
		return false
	case !edit && i >= 0:
		t.unmapped(c, importer.Error, c.cmd.word, "service %s already exists (ipvsadm fails too); line ignored", k)
		return false
	}
	vs := config.VirtualService{Scheduler: config.DefaultScheduler}
	if k.mark != 0 {
		vs.Fwmark = k.mark
		if k.family == config.FamilyIPv6 {
			vs.Family = k.family
		}
	} else {
		vs.Protocol, vs.Address, vs.Port = k.proto, k.addr, k.port
	}
	if o, ok := get("scheduler"); ok {
		if !slices.Contains(config.Schedulers, o.val) {
			t.note(c, importer.Error, o.word, "%q is not a scheduler lvsbox knows (%s)", o.val, strings.Join(config.Schedulers, ", "))
		}
		vs.Scheduler = o.val
	}
	t.persistence(c, get, &vs)
	if o, ok := get("sched-flags"); ok {
		t.schedFlags(c, o, &vs)
	}
	if _, ok := get("ops"); ok {
		vs.OnePacket = true
	}
	if o, ok := get("pe"); ok {
		t.unmapped(c, importer.Warning, o.word, "not mapped: lvsbox has no IPVS persistence engines (%s)", o.val)
	}
	if edit {
		s := t.svcs[i]
		if s.vs.Persistence != nil && vs.Persistence == nil {
			t.note(c, importer.Info, c.cmd.word, "no -p: like ipvsadm, the edit turns persistence off")
		}
		s.vs = vs
		return true
	}
	t.svcs = append(t.svcs, &svcState{key: k, vs: vs, pos: c.pos})
	return true
}

// persistence reads -p [timeout] and -M.
func (t *table) persistence(c command, get func(string) (option, bool), vs *config.VirtualService) {
	p, persistent := get("persistent")
	m, masked := get("netmask")
	if !persistent {
		if masked {
			t.unmapped(c, importer.Info, m.word, "a netmask without -p has no effect; ignored")
		}
		if vs.Port == 0 && !vs.IsFwmark() {
			t.note(c, importer.Error, c.cmd.word, "port 0 (all ports) needs persistence (-p)")
		}
		return
	}
	timeout := uint64(300)
	if p.val != "" {
		v, err := strconv.ParseUint(p.val, 10, 32)
		if err != nil || v == 0 || v > 2147483 {
			t.unmapped(c, importer.Error, p.word, "%q is not a timeout in seconds (1-2147483); the default 300 is used", p.val)
		} else {
			timeout = v
		}
	}
	vs.Persistence = &config.Persistence{Timeout: config.Duration(timeout) * config.Duration(1e9)}
	if !masked {
		return
	}
	if vs.Is6() {
		v, err := strconv.Atoi(m.val)
		if err != nil || v < 1 || v > 128 {
			t.unmapped(c, importer.Error, m.word, "%q is not an IPv6 prefix length (1-128); ignored", m.val)
			return
		}
		if v != config.DefaultPersistPrefix6 {
			vs.Persistence.PrefixLength = v
		}
		return
	}
	a, err := netip.ParseAddr(m.val)
	if err != nil || !a.Is4() {
		t.unmapped(c, importer.Error, m.word, "%q is not an IPv4 netmask; ignored", m.val)
		return
	}
	if a != config.DefaultPersistMask4 {
		vs.Persistence.Netmask = a
	}
}

// schedFlags reads -b FLAG[,FLAG].
func (t *table) schedFlags(c command, o option, vs *config.VirtualService) {
	for f := range strings.SplitSeq(o.val, ",") {
		f, ok := importer.SchedulerFlag(vs.Scheduler, f)
		switch {
		case !ok:
			t.unmapped(c, importer.Warning, o.word, "not mapped: %s is not a flag of the %s scheduler", f, vs.Scheduler)
		case !slices.Contains(vs.SchedulerFlags, f):
			vs.SchedulerFlags = append(vs.SchedulerFlags, f)
		}
	}
}
