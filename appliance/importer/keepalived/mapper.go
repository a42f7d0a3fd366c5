package keepalived

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// mapper turns the parsed tree into an lvsbox configuration.
type mapper struct {
	notes   importer.Notes
	origins importer.Origins
	cfg     config.Config
	ifaces  importer.Interfaces
	g       globals
	// scripts are the vrrp_scripts by keepalived name.
	scripts map[string]*scriptInfo
	// instances maps keepalived instance names to indexes in cfg.VRRPInstances.
	instances map[string]int
	// vsgs are the virtual_server_group blocks by name.
	vsgs     map[string]*Node
	vsgOrder []*Node
	vsgUsed  map[*Node]bool
	// names of services, instances, scripts and sync groups handed out so far.
	serviceNames, instanceNames, scriptNames, groupNames importer.Namer
	// routeKeys and addrKeys detect duplicates among static routes and addresses.
	routeKeys map[string]bool
}

// globals are the global_defs settings that shape other blocks.
type globals struct {
	vrrpVersion  int
	strict       bool
	defaultIface string
	garp         config.GARP
	syncDaemon   *Node
}

// scriptInfo is one vrrp_script: its lvsbox name and default tracking weight.
type scriptInfo struct {
	name    string
	weight  int
	defined bool
}

func newMapper(notes importer.Notes) *mapper {
	return &mapper{
		notes: notes, origins: importer.Origins{},
		g:            globals{vrrpVersion: 2, defaultIface: "eth0"},
		scripts:      map[string]*scriptInfo{},
		instances:    map[string]int{},
		vsgs:         map[string]*Node{},
		vsgUsed:      map[*Node]bool{},
		serviceNames: importer.Namer{}, instanceNames: importer.Namer{},
		scriptNames: importer.Namer{}, groupNames: importer.Namer{},
		routeKeys: map[string]bool{},
	}
}

// run maps the top-level lines. keepalived resolves names (scripts, groups,
// instances) after reading everything, so the mapping takes three passes.
func (m *mapper) run(nodes []*Node) config.Config {
	for _, n := range nodes {
		switch n.Keyword() {
		case "global_defs":
			m.globalDefs(n)
		case "vrrp_script":
			m.vrrpScript(n)
		case "virtual_server_group":
			m.vsgDefine(n)
		}
	}
	for _, n := range nodes {
		switch n.Keyword() {
		case "global_defs", "vrrp_script", "virtual_server_group", "vrrp_sync_group":
		case "vrrp_instance":
			m.vrrpInstance(n)
		case "virtual_server":
			m.virtualServer(n)
		case "static_ipaddress":
			m.staticAddresses(n)
		case "static_routes":
			m.staticRoutes(n)
		default:
			m.other(n, blockTop)
		}
	}
	for _, n := range nodes {
		if n.Keyword() == "vrrp_sync_group" {
			m.syncGroup(n)
		}
	}
	m.syncDaemonFromGlobals()
	m.unusedGroups()
	m.cfg.Interfaces = m.ifaces.List()
	for i, in := range m.cfg.Interfaces {
		if p, ok := m.origins[ifacePath(in.Name)]; ok {
			m.origins.Set(fmt.Sprintf("interfaces[%d]", i), p)
		}
	}
	// Imported services of one group share check settings; Clone unshares them.
	return m.cfg.Clone()
}

func ifacePath(name string) string { return "interfaces[" + name + "]" }

// iface makes sure interface name is configured; the first reference creates it
// with a note.
func (m *mapper) iface(name string, n *Node, why string) {
	if !m.ifaces.Ensure(name) {
		return
	}
	m.origins.Set(ifacePath(name), n.Pos)
	m.notes.Add(n.Pos, importer.Info, n.Keyword(), "interface %s added to interfaces (role data: lvsbox turns GRO/LRO off on it) because %s refers to it; lvsbox manages only the interfaces it lists: check role and addresses", name, why)
}

// Notes.

func (m *mapper) info(n *Node, format string, args ...any) {
	m.notes.Add(n.Pos, importer.Info, n.Keyword(), format, args...)
}

func (m *mapper) warn(n *Node, format string, args ...any) {
	m.notes.Add(n.Pos, importer.Warning, n.Keyword(), format, args...)
}

func (m *mapper) fail(n *Node, format string, args ...any) {
	m.notes.Add(n.Pos, importer.Error, n.Keyword(), format, args...)
}

// drop reports a keyword that is not carried over, with severity sev.
func (m *mapper) drop(n *Node, sev importer.Severity, format string, args ...any) {
	m.notes.Unmapped(n.Pos, sev, n.Keyword(), format, args...)
}

// bad reports a keyword whose value cannot be used; it is not carried over.
func (m *mapper) bad(n *Node, format string, args ...any) {
	m.notes.Unmapped(n.Pos, importer.Error, n.Keyword(), format, args...)
}

// other reports a keyword of block that the mapping does not handle: a known
// keepalived keyword lvsbox has no place for, or an unknown one.
func (m *mapper) other(n *Node, block string) {
	if r, ok := lookupUnmapped(block, n.Keyword()); ok {
		m.drop(n, r.sev, "%s", r.why)
		return
	}
	where := "here"
	if block != blockTop {
		where = "in " + block
	}
	m.drop(n, importer.Warning, "not a keepalived keyword %s (keepalived ignores it too; a typo, or a line that belongs elsewhere?)", where)
}

// needArgs reports a keyword with fewer than k arguments and returns false.
func (m *mapper) needArgs(n *Node, k int) bool {
	if n.NArgs() >= k {
		return true
	}
	m.bad(n, "needs %d value(s); ignored", k)
	return false
}

// Values.

// uintArg parses argument i as an integer in [lo, hi].
func (m *mapper) uintArg(n *Node, i int, lo, hi int64) (int64, bool) {
	if !m.needArgs(n, i+1) {
		return 0, false
	}
	v, err := strconv.ParseInt(n.Arg(i), 10, 64)
	if err != nil || v < lo || v > hi {
		m.bad(n, "%q is not a whole number in %d-%d; ignored", n.Arg(i), lo, hi)
		return 0, false
	}
	return v, true
}

// intArg parses argument i as a signed integer in [lo, hi].
func (m *mapper) intArg(n *Node, i int, lo, hi int64) (int64, bool) { return m.uintArg(n, i, lo, hi) }

// timerArg parses argument i as keepalived's timer: seconds with up to six
// decimals ("3", "0.5").
func (m *mapper) timerArg(n *Node, i int) (config.Duration, bool) {
	if !m.needArgs(n, i+1) {
		return 0, false
	}
	d, ok := parseTimer(n.Arg(i))
	if !ok {
		m.bad(n, "%q is not a number of seconds; ignored", n.Arg(i))
	}
	return d, ok
}

func parseTimer(s string) (config.Duration, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" && !hasFrac || len(frac) > 6 || strings.ContainsAny(whole+frac, "+-") {
		return 0, false
	}
	w := int64(0)
	if whole != "" {
		v, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || v > math.MaxInt32 {
			return 0, false
		}
		w = v
	}
	us := int64(0)
	if hasFrac && frac != "" {
		v, err := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil {
			return 0, false
		}
		us = v
	} else if hasFrac && whole == "" {
		return 0, false
	}
	return config.Duration(time.Duration(w)*time.Second + time.Duration(us)*time.Microsecond), true
}

// parseAddr parses an IP address without a zone; IPv4-mapped IPv6 is unmapped.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseHostPrefix parses "addr" (a host prefix) or "addr/len" (host bits kept).
func parseHostPrefix(s string) (netip.Prefix, bool) {
	if !strings.Contains(s, "/") {
		a, ok := parseAddr(s)
		if !ok {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Zone() != "" {
		return netip.Prefix{}, false
	}
	if p.Addr().Is4In6() {
		return netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0)), true
	}
	return p, true
}

// addrArg parses argument i as an IP address.
func (m *mapper) addrArg(n *Node, i int) (netip.Addr, bool) {
	if !m.needArgs(n, i+1) {
		return netip.Addr{}, false
	}
	a, ok := parseAddr(n.Arg(i))
	if !ok {
		m.bad(n, "%q is not an IP address (host names are not resolved); ignored", n.Arg(i))
	}
	return a, ok
}

// portArg parses argument i as a port 1-65535.
func (m *mapper) portArg(n *Node, i int) (int, bool) {
	v, ok := m.uintArg(n, i, 1, 65535)
	return int(v), ok
}

// flagArg reads the optional on/off argument of a flag keyword ("nopreempt",
// "smtp_alert true"); a flag without a value is on.
func (m *mapper) flagArg(n *Node) (bool, bool) {
	if n.NArgs() == 0 {
		return true, true
	}
	switch strings.ToLower(n.Arg(0)) {
	case "true", "on", "yes":
		return true, true
	case "false", "off", "no":
		return false, true
	}
	m.bad(n, "%q is neither true nor false; ignored", n.Arg(0))
	return false, false
}

// command splits a script keyword's value into the executable and its arguments:
// one (quoted) value is split like a shell would split it, several words are the
// arguments as written.
func command(n *Node) []string {
	args := n.Args()
	if len(args) == 1 {
		return shellSplit(args[0].Text)
	}
	out := make([]string, len(args))
	for i, w := range args {
		out[i] = w.Text
	}
	return out
}

// shellSplit splits s at blanks, honouring single and double quotes and
// backslash escapes, as keepalived does for script strings.
func shellSplit(s string) []string {
	var out []string
	var b strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != '\'' && c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			in = true
		case quote != 0:
			b.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

// shellSyntax reports whether a command uses shell features (redirection, pipes,
// variables, globbing) that only a shell understands.
func shellSyntax(s string) bool { return strings.ContainsAny(s, "<>|&;$`*?(){}") }

// scriptPath checks the executable of a script keyword and explains what lvsbox
// needs; it returns the command split into path and arguments.
func (m *mapper) scriptPath(n *Node) (string, []string, bool) {
	if !m.needArgs(n, 1) {
		return "", nil, false
	}
	argv := command(n)
	if len(argv) == 0 {
		m.bad(n, "empty command; ignored")
		return "", nil, false
	}
	raw := strings.Join(argv, " ")
	switch {
	case shellSyntax(raw):
		m.fail(n, "%q needs a shell (redirection, pipes or variables), but lvsbox runs the executable directly with its arguments: put the command in a script file and give its absolute path", raw)
	case !strings.HasPrefix(argv[0], "/"):
		m.fail(n, "keepalived looks %q up in PATH; lvsbox needs the absolute path of the executable", argv[0])
	}
	return argv[0], argv[1:], true
}
