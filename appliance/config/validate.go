package config

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Env describes the running system, for the checks that depend on it. A nil field
// means "unknown": the checks that need it are skipped. The zero Env checks the
// document on its own.
type Env struct {
	// Links are the network interfaces present on the system.
	Links []HostLink
	// Schedulers are the IPVS schedulers the running kernel offers (loaded or
	// loadable).
	Schedulers []string
	// TunnelTypes are the IPVS tunnel encapsulations the running kernel offers.
	TunnelTypes []TunnelType
}

// HostLink is one interface present on the system.
type HostLink struct {
	Name string
	MAC  string // any form net.ParseMAC accepts; empty if it has none
}

// Validate checks c on its own and returns every problem as Errors (nil when c is
// valid). It accepts a document with or without defaults applied.
func (c Config) Validate() error { return c.ValidateWith(Env{}) }

// ValidateWith is Validate plus the checks against the running system that env
// allows.
func (c Config) ValidateWith(env Env) error {
	v := &validator{c: c, env: env, ifaces: map[string]*Interface{}, ifaceAddrs: map[netip.Addr]string{},
		services: map[string]*VirtualService{}, instances: map[string]*VRRPInstance{}, bondOf: map[string]string{},
		scripts: map[string]bool{}}
	v.system()
	v.interfaces()
	v.routes("routes", c.Routes)
	v.sysctls()
	v.ipvs()
	v.virtualServices()
	v.vrrpScripts()
	v.vrrpInstances()
	v.syncGroups()
	v.users()
	return v.errs.err()
}

// validator carries the indexes the cross-reference checks need.
type validator struct {
	c    Config
	env  Env
	errs Errors
	// ifaces indexes configured interfaces by name (first one wins).
	ifaces map[string]*Interface
	// ifaceAddrs maps each configured interface address to its path.
	ifaceAddrs map[netip.Addr]string
	// bondOf maps a bond member to its bond.
	bondOf    map[string]string
	services  map[string]*VirtualService
	instances map[string]*VRRPInstance
	scripts   map[string]bool
}

func (v *validator) add(path, format string, args ...any) { v.errs.add(path, format, args...) }

func (v *validator) system() {
	s := v.c.System
	if s.Hostname != "" && !validHostname(s.Hostname) {
		v.add("system.hostname", "%q is not a host name (letters, digits, '-' and '.', at most 64 characters)", s.Hostname)
	}
	seen := map[netip.Addr]bool{}
	for i, a := range s.DNSServers {
		p := fmt.Sprintf("system.dns_servers[%d]", i)
		if v.unicast(p, a) {
			if seen[a] {
				v.add(p, "%s is listed twice", a)
			}
			seen[a] = true
		}
	}
	for i, d := range s.DNSSearch {
		if !validDomain(d) {
			v.add(fmt.Sprintf("system.dns_search[%d]", i), "%q is not a domain name", d)
		}
	}
	for i, n := range s.NTPServers {
		if !validHost(n) {
			v.add(fmt.Sprintf("system.ntp_servers[%d]", i), "%q is neither a host name nor an IP address", n)
		} else if slices.Contains(s.NTPServers[:i], n) {
			v.add(fmt.Sprintf("system.ntp_servers[%d]", i), "%q is listed twice", n)
		}
	}
	if s.TimeZone != "" && !validTimeZone(s.TimeZone) {
		v.add("system.time_zone", "%q is not a time zone name (e.g. UTC, Europe/Berlin)", s.TimeZone)
	}
	if sl := s.Syslog; sl != nil {
		switch {
		case sl.Server == "":
			v.add("system.syslog.server", "required (a host name or IP address)")
		case !validHost(sl.Server):
			v.add("system.syslog.server", "%q is neither a host name nor an IP address", sl.Server)
		}
		v.optPort("system.syslog.port", sl.Port)
		if sl.Protocol != "" && sl.Protocol != "udp" && sl.Protocol != "tcp" {
			v.add("system.syslog.protocol", "%q is not a syslog protocol (udp or tcp)", sl.Protocol)
		}
	}
}

func (v *validator) interfaces() {
	for i := range v.c.Interfaces {
		in := &v.c.Interfaces[i]
		if _, dup := v.ifaces[in.Name]; in.Name != "" && !dup {
			v.ifaces[in.Name] = in
		}
		if in.Bond != nil {
			for _, m := range in.Bond.Members {
				if _, taken := v.bondOf[m]; !taken && m != "" && m != in.Name {
					v.bondOf[m] = in.Name
				}
			}
		}
	}
	names := map[string]bool{}
	macs := map[string]string{}
	vlans := map[string]string{}
	for i, in := range v.c.Interfaces {
		p := elem("interfaces", i, in.Name)
		switch {
		case in.Name == "":
			v.add(join(p, "name"), "required")
		case !validIfName(in.Name):
			v.add(join(p, "name"), "%q is not an interface name (1-15 characters, no '/', ':' or spaces)", in.Name)
		case names[in.Name]:
			v.add(join(p, "name"), "interface %q is listed twice", in.Name)
		}
		names[in.Name] = true
		if in.Role != "" && in.Role != RoleManagement && in.Role != RoleData {
			v.add(join(p, "role"), "%q is not a role (management or data)", in.Role)
		}
		if in.MAC != "" {
			hw, err := net.ParseMAC(in.MAC)
			switch {
			case err != nil || len(hw) != 6:
				v.add(join(p, "mac"), "%q is not an Ethernet MAC address (e.g. 52:54:00:12:34:56)", in.MAC)
			case !in.IsPhysical():
				v.add(join(p, "mac"), "only physical interfaces are matched by MAC (this one is a VLAN or bond)")
			case macs[hw.String()] != "":
				v.add(join(p, "mac"), "%s is already used by %s", hw, macs[hw.String()])
			default:
				macs[hw.String()] = p
			}
		}
		if in.DHCP && in.Role != RoleManagement {
			v.add(join(p, "dhcp"), "DHCP is only allowed on management interfaces (set role to management)")
		}
		v.interfaceAddrs(p, in)
		v.interfaceKind(p, in, vlans)
		v.hostLink(p, in)
	}
}

func (v *validator) interfaceAddrs(p string, in Interface) {
	has6 := false
	for j, a := range in.Addresses {
		ap := fmt.Sprintf("%s.addresses[%d]", p, j)
		if !a.IsValid() {
			v.add(ap, "empty address (want address/prefix-length, e.g. 192.0.2.2/24)")
			continue
		}
		if !v.unicast(ap, a.Addr()) {
			continue
		}
		has6 = has6 || a.Addr().Is6()
		if prev, dup := v.ifaceAddrs[a.Addr()]; dup {
			v.add(ap, "address %s is already used by %s", a.Addr(), prev)
			continue
		}
		v.ifaceAddrs[a.Addr()] = ap
	}
	switch {
	case in.MTU == 0:
	case in.MTU < 68 || in.MTU > 65535:
		v.add(join(p, "mtu"), "%d is not an MTU (68-65535)", in.MTU)
	case has6 && in.MTU < 1280:
		v.add(join(p, "mtu"), "%d is below 1280, the minimum MTU for IPv6 (the interface has IPv6 addresses)", in.MTU)
	}
}

func (v *validator) interfaceKind(p string, in Interface, vlans map[string]string) {
	if bond, ok := v.bondOf[in.Name]; ok && in.IsPhysical() {
		if len(in.Addresses) > 0 || in.DHCP {
			v.add(p, "member of bond %q: put its addresses on the bond, not on the member", bond)
		}
	}
	if in.VLAN != nil && in.Bond != nil {
		v.add(p, "an interface is either a VLAN or a bond, not both")
		return
	}
	if vl := in.VLAN; vl != nil {
		pp := join(p, "vlan.parent")
		parent, ok := v.ifaces[vl.Parent]
		switch {
		case vl.Parent == "":
			v.add(pp, "required")
		case vl.Parent == in.Name:
			v.add(pp, "a VLAN cannot be its own parent")
		case !ok:
			v.add(pp, "%q is not a configured interface (add it to interfaces)", vl.Parent)
		case parent.VLAN != nil:
			v.add(pp, "%q is itself a VLAN (stacked VLANs are not supported)", vl.Parent)
		case v.bondOf[vl.Parent] != "":
			v.add(pp, "%q is a member of bond %q: put the VLAN on the bond", vl.Parent, v.bondOf[vl.Parent])
		case in.MTU != 0 && parent.MTU != 0 && in.MTU > parent.MTU:
			v.add(join(p, "mtu"), "%d is larger than the MTU %d of the parent %q", in.MTU, parent.MTU, vl.Parent)
		}
		if vl.ID < 1 || vl.ID > 4094 {
			v.add(join(p, "vlan.id"), "%d is not a VLAN id (1-4094)", vl.ID)
		} else if key := fmt.Sprintf("%s.%d", vl.Parent, vl.ID); vlans[key] != "" {
			v.add(join(p, "vlan.id"), "VLAN %d on %q is already defined by %s", vl.ID, vl.Parent, vlans[key])
		} else {
			vlans[key] = p
		}
	}
	if b := in.Bond; b != nil {
		if b.Mode != "" && !slices.Contains(BondModes, b.Mode) {
			v.add(join(p, "bond.mode"), "%q is not a bonding mode (one of %s)", b.Mode, strings.Join(BondModes, ", "))
		}
		if len(b.Members) == 0 {
			v.add(join(p, "bond.members"), "a bond needs at least one member")
		}
		for j, m := range b.Members {
			mp := fmt.Sprintf("%s.bond.members[%d]", p, j)
			mi, ok := v.ifaces[m]
			switch {
			case m == in.Name:
				v.add(mp, "a bond cannot be its own member")
			case !ok:
				v.add(mp, "%q is not a configured interface (add it to interfaces)", m)
			case !mi.IsPhysical():
				v.add(mp, "%q is a VLAN or bond; bond members must be physical interfaces", m)
			case slices.Contains(b.Members[:j], m):
				v.add(mp, "%q is listed twice", m)
			case v.bondOf[m] != in.Name:
				v.add(mp, "%q is already a member of bond %q", m, v.bondOf[m])
			}
		}
		if b.MIIMon%Duration(time.Millisecond) != 0 {
			v.add(join(p, "bond.miimon"), "%s is not a whole number of milliseconds", b.MIIMon)
		}
	}
}

// hostLink checks, when the system's links are known, that a physical interface
// exists.
func (v *validator) hostLink(p string, in Interface) {
	if v.env.Links == nil || !in.IsPhysical() || in.Name == "" {
		return
	}
	if in.MAC != "" {
		want, err := net.ParseMAC(in.MAC)
		if err != nil {
			return
		}
		for _, l := range v.env.Links {
			if hw, err := net.ParseMAC(l.MAC); err == nil && hw.String() == want.String() {
				return
			}
		}
		v.add(join(p, "mac"), "no interface with MAC %s on this system", want)
		return
	}
	var have []string
	for _, l := range v.env.Links {
		if l.Name == in.Name {
			return
		}
		have = append(have, l.Name)
	}
	v.add(join(p, "name"), "no interface named %q on this system (it has: %s)", in.Name, strings.Join(have, ", "))
}

// iface checks a reference to an interface: it must be configured (or be lo).
func (v *validator) iface(p, name string) bool {
	switch _, ok := v.ifaces[name]; {
	case name == "":
		v.add(p, "required")
	case name == "lo" || ok:
		return true
	default:
		v.add(p, "%q is not a configured interface (add it to interfaces)", name)
	}
	return false
}

// routes checks a list of routes (static routes or an instance's virtual routes).
func (v *validator) routes(list string, rs []Route) {
	seen := map[string]string{}
	for i, r := range rs {
		p := fmt.Sprintf("%s[%d]", list, i)
		dst, gw := r.Destination, r.Gateway
		switch {
		case !dst.IsValid():
			v.add(join(p, "destination"), "required (e.g. 0.0.0.0/0)")
		case dst != dst.Masked():
			v.add(join(p, "destination"), "%s has host bits set (did you mean %s?)", dst, dst.Masked())
		case dst.Addr().Zone() != "" || dst.Addr().Is4In6():
			v.add(join(p, "destination"), "%s: write IPv4 in dotted form, without a zone", dst)
		}
		if !gw.IsValid() && r.Device == "" {
			v.add(p, "a route needs a gateway, a device or both")
		}
		if gw.IsValid() && v.unicast(join(p, "gateway"), gw) {
			switch {
			case dst.IsValid() && gw.Is4() != dst.Addr().Is4():
				v.add(join(p, "gateway"), "%s is not the same address family as %s", gw, dst)
			case gw.IsLinkLocalUnicast() && gw.Is6() && r.Device == "":
				v.add(join(p, "gateway"), "link-local gateway %s needs a device", gw)
			}
		}
		if r.Device != "" {
			v.iface(join(p, "device"), r.Device)
		}
		if dst.IsValid() {
			key := fmt.Sprintf("%d %s %d", orDefault(r.Table, TableMain), dst, r.Metric)
			if prev, dup := seen[key]; dup {
				v.add(join(p, "destination"), "route to %s (table %d, metric %d) is already defined by %s", dst, orDefault(r.Table, TableMain), r.Metric, prev)
			}
			seen[key] = p
		}
	}
}

var sysctlRoots = []string{"abi", "crypto", "debug", "dev", "fs", "kernel", "net", "sunrpc", "user", "vm"}

func (v *validator) sysctls() {
	keys := make([]string, 0, len(v.c.Sysctls))
	for k := range v.c.Sysctls {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := fmt.Sprintf("sysctls[%s]", k)
		if !validSysctlName(k) {
			v.add(p, "%q is not a sysctl name (dotted, e.g. net.ipv4.ip_forward; a '.' inside an interface name is written '/')", k)
		}
		switch val := v.c.Sysctls[k]; {
		case val == "":
			v.add(p, "empty value")
		case strings.ContainsAny(val, "\n\r\x00") || len(val) > 4096:
			v.add(p, "a value is one line of at most 4096 bytes")
		}
	}
}

// maxTimeout is the largest IPVS timeout the kernel takes (INT_MAX/HZ at HZ=1000).
const maxTimeout = Duration(2147483 * time.Second)

func (v *validator) ipvs() {
	t := v.c.IPVS.Timeouts
	v.seconds("ipvs.timeouts.tcp", t.TCP, maxTimeout)
	v.seconds("ipvs.timeouts.tcp_fin", t.TCPFin, maxTimeout)
	v.seconds("ipvs.timeouts.udp", t.UDP, maxTimeout)
	sd := v.c.IPVS.SyncDaemon
	if sd.Interface != "" {
		v.iface("ipvs.sync_daemon.interface", sd.Interface)
	} else if sd.Enabled {
		v.add("ipvs.sync_daemon.interface", "required when the sync daemon is enabled")
	}
	if sd.SyncID < 0 || sd.SyncID > 255 {
		v.add("ipvs.sync_daemon.sync_id", "%d is not a sync id (0-255)", sd.SyncID)
	}
	if g := sd.MulticastGroup; g.IsValid() && (!g.IsMulticast() || g.Zone() != "") {
		v.add("ipvs.sync_daemon.multicast_group", "%s is not a multicast address", g)
	}
	v.optPort("ipvs.sync_daemon.port", sd.Port)
	if sd.TTL < 0 || sd.TTL > 255 {
		v.add("ipvs.sync_daemon.ttl", "%d is not a TTL (1-255)", sd.TTL)
	}
}

// seconds checks an optional duration that the kernel takes in whole seconds.
func (v *validator) seconds(p string, d, max Duration) {
	switch {
	case !d.wholeSeconds():
		v.add(p, "%s is not a whole number of seconds", d)
	case d > max:
		v.add(p, "%s is longer than the maximum %s", d, max)
	}
}

// unicast checks a usable unicast address; it reports and returns false otherwise.
func (v *validator) unicast(p string, a netip.Addr) bool {
	switch {
	case !a.IsValid():
		v.add(p, "required")
	case a.Zone() != "":
		v.add(p, "%s: zones are not allowed", a)
	case a.Is4In6():
		v.add(p, "%s: write IPv4 addresses in dotted form", a)
	case a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		v.add(p, "%s is not a unicast address", a)
	default:
		return true
	}
	return false
}

// optPort checks a port where 0 means "default".
func (v *validator) optPort(p string, port int) {
	if port != 0 && !validPort(port) {
		v.add(p, "%d is not a port (1-65535)", port)
	}
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }
