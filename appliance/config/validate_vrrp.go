package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// maxPreemptDelay bounds preempt_delay (keepalived allows up to 1000s).
const maxPreemptDelay = Duration(time.Hour)

func (v *validator) vrrpInstances() {
	for i := range v.c.VRRPInstances {
		in := &v.c.VRRPInstances[i]
		if _, dup := v.instances[in.Name]; in.Name != "" && !dup {
			v.instances[in.Name] = in
		}
	}
	names := map[string]bool{}
	vrids := map[string]string{}
	vips := map[netip.Addr]string{}
	for i, in := range v.c.VRRPInstances {
		p := elem("vrrp_instances", i, in.Name)
		switch {
		case in.Name == "":
			v.add(join(p, "name"), "required")
		case !validName(in.Name):
			v.add(join(p, "name"), "%q is not a name (1-64 of letters, digits, '-', '_' and '.')", in.Name)
		case names[in.Name]:
			v.add(join(p, "name"), "VRRP instance %q is listed twice", in.Name)
		}
		names[in.Name] = true
		ifOK := v.iface(join(p, "interface"), in.Interface)
		vridOK := in.VRID >= 1 && in.VRID <= 255
		if !vridOK {
			v.add(join(p, "vrid"), "%d is not a VRID (1-255)", in.VRID)
		}
		ver := orDefault(in.Version, DefaultVRRPVersion)
		if ver != 2 && ver != 3 {
			v.add(join(p, "version"), "%d is not a VRRP version (2 or 3)", in.Version)
		}
		if in.Priority < 0 || in.Priority > 255 {
			v.add(join(p, "priority"), "%d is not a priority (1-255; 255 only for the address owner)", in.Priority)
		}
		v.advertInterval(join(p, "advert_interval"), ver, in.AdvertInterval)
		if in.PreemptDelay > maxPreemptDelay {
			v.add(join(p, "preempt_delay"), "%s is longer than the maximum %s", in.PreemptDelay, maxPreemptDelay)
		}
		switch in.InitialState {
		case "", InitialBackup, InitialMaster:
		default:
			v.add(join(p, "initial_state"), "%q is not an initial state (backup or master)", in.InitialState)
		}
		fam := v.virtualAddresses(p, in, ver, vips)
		if ifOK && vridOK && fam != 0 {
			key := fmt.Sprintf("%s/%d/%d", in.Interface, in.VRID, fam)
			if prev, dup := vrids[key]; dup {
				v.add(join(p, "vrid"), "VRID %d is already used on %s for IPv%d by %s", in.VRID, in.Interface, fam, prev)
			} else {
				vrids[key] = p
			}
		}
		v.unicastPeers(p, in, fam)
		v.routes(join(p, "virtual_routes"), in.VirtualRoutes)
		v.tracking(p, in)
		if in.AuthPass != "" {
			switch {
			case ver == 3:
				v.add(join(p, "auth_pass"), "VRRPv3 has no authentication (auth_pass is for version 2)")
			case len(in.AuthPass) > 8:
				v.add(join(p, "auth_pass"), "%d characters; PASS authentication takes at most 8", len(in.AuthPass))
			case strings.IndexFunc(in.AuthPass, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0:
				v.add(join(p, "auth_pass"), "use printable ASCII without spaces (keepalived compatibility)")
			}
		}
		g := in.GARP
		if g.Count < 0 || g.Count > 100 {
			v.add(join(p, "garp.count"), "%d is out of range (1-100)", g.Count)
		}
		if g.Interval > Duration(10*time.Second) {
			v.add(join(p, "garp.interval"), "%s is longer than the maximum 10s", g.Interval)
		}
	}
}

func (v *validator) advertInterval(p string, ver int, ai Duration) {
	if ai == 0 {
		return
	}
	switch ver {
	case 2:
		if !ai.wholeSeconds() || ai < Duration(time.Second) || ai > Duration(255*time.Second) {
			v.add(p, "%s is not a VRRPv2 advert interval (whole seconds, 1s-255s)", ai)
		}
	case 3:
		if ai%Duration(10*time.Millisecond) != 0 || ai < Duration(10*time.Millisecond) || ai > Duration(40950*time.Millisecond) {
			v.add(p, "%s is not a VRRPv3 advert interval (10ms-40.95s in steps of 10ms)", ai)
		}
	}
}

// virtualAddresses checks the instance's addresses and returns their family (4 or
// 6; 0 when unknown).
func (v *validator) virtualAddresses(p string, in VRRPInstance, ver int, taken map[netip.Addr]string) int {
	lp := join(p, "virtual_addresses")
	switch {
	case len(in.VirtualAddresses) == 0:
		v.add(lp, "an instance needs at least one virtual address")
	case len(in.VirtualAddresses) > 255:
		v.add(lp, "%d addresses; an advert carries at most 255", len(in.VirtualAddresses))
	}
	var first netip.Addr
	for j, va := range in.VirtualAddresses {
		ap := fmt.Sprintf("%s[%d]", lp, j)
		if va.Device != "" {
			v.iface(join(ap, "device"), va.Device)
		}
		a := va.Address.Addr()
		switch {
		case !va.Address.IsValid():
			v.add(join(ap, "address"), "required (address/prefix-length, e.g. 192.0.2.100/32)")
			continue
		case !v.unicast(join(ap, "address"), a):
			continue
		case ver == 2 && a.Is6():
			v.add(join(ap, "address"), "%s is IPv6, but VRRP version 2 is IPv4 only (use version 3)", a)
		case first.IsValid() && a.Is6() != first.Is6():
			v.add(join(ap, "address"), "%s is not the same address family as %s (an instance carries one family)", a, first)
		case slices.ContainsFunc(in.VirtualAddresses[:j], func(o VirtualAddress) bool { return o.Address.Addr() == a }):
			v.add(join(ap, "address"), "%s is listed twice", a)
		case taken[a] != "":
			v.add(join(ap, "address"), "%s is already a virtual address of %s", a, taken[a])
		default:
			taken[a] = p
		}
		if !first.IsValid() {
			first = a
		}
	}
	if in.Priority == PriorityOwner {
		for _, va := range in.VirtualAddresses {
			if a := va.Address.Addr(); va.Address.IsValid() && v.ifaceAddrs[a] == "" {
				v.add(join(p, "priority"), "255 is for the owner of the addresses, but %s is not an interface address (configure it on an interface, or lower the priority)", a)
				break
			}
		}
	}
	switch {
	case !first.IsValid():
		return 0
	case first.Is4():
		return 4
	}
	return 6
}

func (v *validator) unicastPeers(p string, in VRRPInstance, fam int) {
	if !in.Unicast {
		if len(in.UnicastPeers) > 0 {
			v.add(join(p, "unicast_peers"), "peers are only used with unicast (set unicast to true)")
		}
		if in.UnicastSource.IsValid() {
			v.add(join(p, "unicast_source"), "a source address is only used with unicast (set unicast to true)")
		}
		return
	}
	if len(in.UnicastPeers) == 0 {
		v.add(join(p, "unicast_peers"), "unicast is on but there are no peers to send adverts to")
	}
	famOK := func(a netip.Addr) bool { return fam == 0 || a.Is4() == (fam == 4) }
	if src := in.UnicastSource; src.IsValid() && v.unicast(join(p, "unicast_source"), src) {
		switch ifc := v.ifaces[in.Interface]; {
		case !famOK(src):
			v.add(join(p, "unicast_source"), "%s is not the same address family as the virtual addresses", src)
		case ifc != nil && !ifc.DHCP && len(ifc.Addresses) > 0 &&
			!slices.ContainsFunc(ifc.Addresses, func(q netip.Prefix) bool { return q.Addr() == src }):
			v.add(join(p, "unicast_source"), "%s is not an address of %s", src, in.Interface)
		}
	}
	for j, a := range in.UnicastPeers {
		pp := fmt.Sprintf("%s.unicast_peers[%d]", p, j)
		switch {
		case !v.unicast(pp, a):
		case !famOK(a):
			v.add(pp, "%s is not the same address family as the virtual addresses", a)
		case a == in.UnicastSource:
			v.add(pp, "%s is this instance's own unicast_source", a)
		case slices.Contains(in.UnicastPeers[:j], a):
			v.add(pp, "%s is listed twice", a)
		}
	}
}

func (v *validator) tracking(p string, in VRRPInstance) {
	for j, t := range in.TrackInterfaces {
		tp := fmt.Sprintf("%s.track_interfaces[%d]", p, j)
		if v.iface(join(tp, "interface"), t.Interface) &&
			slices.ContainsFunc(in.TrackInterfaces[:j], func(o TrackInterface) bool { return o.Interface == t.Interface }) {
			v.add(join(tp, "interface"), "%q is tracked twice", t.Interface)
		}
		if t.Weight < -254 || t.Weight > 254 {
			v.add(join(tp, "weight"), "%d is not a tracking weight (-254 to 254; 0 = fault)", t.Weight)
		}
	}
	for j, t := range in.TrackServices {
		tp := fmt.Sprintf("%s.track_services[%d]", p, j)
		switch _, ok := v.services[t.Service]; {
		case t.Service == "":
			v.add(join(tp, "service"), "required (the name of a virtual service)")
		case !ok:
			v.add(join(tp, "service"), "%q is not a virtual service", t.Service)
		case slices.ContainsFunc(in.TrackServices[:j], func(o TrackService) bool { return o.Service == t.Service }):
			v.add(join(tp, "service"), "%q is tracked twice", t.Service)
		}
		if t.Weight < -254 || t.Weight > 254 {
			v.add(join(tp, "weight"), "%d is not a tracking weight (-254 to 254; 0 = fault)", t.Weight)
		}
	}
	for j, t := range in.TrackScripts {
		tp := fmt.Sprintf("%s.track_scripts[%d]", p, j)
		switch {
		case t.Script == "":
			v.add(join(tp, "script"), "required (the name of a VRRP script)")
		case !v.scripts[t.Script]:
			v.add(join(tp, "script"), "%q is not a VRRP script", t.Script)
		case slices.ContainsFunc(in.TrackScripts[:j], func(o TrackScript) bool { return o.Script == t.Script }):
			v.add(join(tp, "script"), "%q is tracked twice", t.Script)
		}
		if t.Weight < -254 || t.Weight > 254 {
			v.add(join(tp, "weight"), "%d is not a tracking weight (-254 to 254; 0 = fault)", t.Weight)
		}
	}
}

func (v *validator) vrrpScripts() {
	for i, sc := range v.c.VRRPScripts {
		p := elem("vrrp_scripts", i, sc.Name)
		switch {
		case sc.Name == "":
			v.add(join(p, "name"), "required")
		case !validName(sc.Name):
			v.add(join(p, "name"), "%q is not a name (1-64 of letters, digits, '-', '_' and '.')", sc.Name)
		case v.scripts[sc.Name]:
			v.add(join(p, "name"), "VRRP script %q is listed twice", sc.Name)
		}
		v.scripts[sc.Name] = true
		v.absPath(join(p, "path"), sc.Path, true)
		for j, a := range sc.Args {
			if strings.ContainsRune(a, 0) {
				v.add(fmt.Sprintf("%s.args[%d]", p, j), "an argument cannot contain a NUL byte")
			}
		}
		for _, d := range []struct {
			name string
			val  Duration
		}{{"interval", sc.Interval}, {"timeout", sc.Timeout}} {
			if d.val != 0 && d.val < minCheckPeriod {
				v.add(join(p, d.name), "%s is too short (at least %s)", d.val, minCheckPeriod)
			}
		}
		for _, n := range []struct {
			name string
			val  int
		}{{"rise", sc.Rise}, {"fall", sc.Fall}} {
			if n.val < 0 || n.val > 1000 {
				v.add(join(p, n.name), "%d is out of range (0-1000)", n.val)
			}
		}
	}
}

func (v *validator) syncGroups() {
	names := map[string]bool{}
	memberOf := map[string]string{}
	for i, g := range v.c.VRRPSyncGroups {
		p := elem("vrrp_sync_groups", i, g.Name)
		switch {
		case g.Name == "":
			v.add(join(p, "name"), "required")
		case !validName(g.Name):
			v.add(join(p, "name"), "%q is not a name (1-64 of letters, digits, '-', '_' and '.')", g.Name)
		case names[g.Name]:
			v.add(join(p, "name"), "sync group %q is listed twice", g.Name)
		}
		names[g.Name] = true
		if len(g.Members) == 0 {
			v.add(join(p, "members"), "a sync group needs members")
		}
		for j, m := range g.Members {
			mp := fmt.Sprintf("%s.members[%d]", p, j)
			switch _, ok := v.instances[m]; {
			case !ok:
				v.add(mp, "%q is not a VRRP instance", m)
			case slices.Contains(g.Members[:j], m):
				v.add(mp, "%q is listed twice", m)
			case memberOf[m] != "":
				v.add(mp, "%q is already in sync group %q (an instance belongs to at most one)", m, memberOf[m])
			default:
				memberOf[m] = g.Name
			}
		}
	}
}

func (v *validator) users() {
	names := map[string]bool{}
	for i, u := range v.c.Users {
		p := elem("users", i, u.Name)
		switch {
		case u.Name == "":
			v.add(join(p, "name"), "required")
		case !validName(u.Name):
			v.add(join(p, "name"), "%q is not a user name (1-64 of letters, digits, '-', '_' and '.')", u.Name)
		case names[u.Name]:
			v.add(join(p, "name"), "user %q is listed twice", u.Name)
		}
		names[u.Name] = true
		switch u.Role {
		case RoleAdmin, RoleOperator, RoleViewer:
		case "":
			v.add(join(p, "role"), "required (admin, operator or viewer)")
		default:
			v.add(join(p, "role"), "%q is not a role (admin, operator or viewer)", u.Role)
		}
		if h := u.PasswordHash; h != "" && (!strings.HasPrefix(h, "$") || strings.ContainsAny(h, " \t\r\n")) {
			v.add(join(p, "password_hash"), "not a password hash (a PHC or crypt string starting with '$'; never a plain password)")
		}
		tokens := map[string]bool{}
		for j, t := range u.Tokens {
			tp := elem(join(p, "tokens"), j, t.Name)
			switch {
			case t.Name == "":
				v.add(join(tp, "name"), "required")
			case !validName(t.Name):
				v.add(join(tp, "name"), "%q is not a token name (1-64 of letters, digits, '-', '_' and '.')", t.Name)
			case tokens[t.Name]:
				v.add(join(tp, "name"), "token %q is listed twice", t.Name)
			}
			tokens[t.Name] = true
			if t.Hash == "" || strings.ContainsAny(t.Hash, " \t\r\n") {
				v.add(join(tp, "hash"), "required (the token's hash, without spaces)")
			}
			if !t.Expires.IsZero() && !t.Created.IsZero() && !t.Expires.After(t.Created) {
				v.add(join(tp, "expires"), "%s is not after created %s", t.Expires.Format(time.RFC3339), t.Created.Format(time.RFC3339))
			}
		}
	}
}
