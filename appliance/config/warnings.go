package config

import (
	"fmt"
	"net/netip"
)

// Warnings lists legal but risky choices in c, each with a path, in document order.
// They never block a commit; the API and UIs show them next to the errors.
func (c Config) Warnings() []FieldError {
	var w Errors
	for i, in := range c.Interfaces {
		p := elem("interfaces", i, in.Name)
		if orDefault(in.Role, DefaultRole) != RoleData {
			continue
		}
		for _, f := range []struct {
			name, what string
			val        *bool
		}{{"gro", "GRO", in.Offload.GRO}, {"lro", "LRO", in.Offload.LRO}, {"gro_hw", "hardware GRO", in.Offload.GROHW}} {
			if f.val != nil && *f.val {
				w.add(join(p, "offload."+f.name), "%s is on for a data interface: IPVS drops aggregated packets larger than the MTU", f.what)
			}
		}
	}
	ifaceAddrs := map[netip.Addr]bool{}
	for _, in := range c.Interfaces {
		for _, a := range in.Addresses {
			ifaceAddrs[a.Addr()] = true
		}
	}
	for i, vs := range c.VirtualServices {
		p := elem("virtual_services", i, vs.Name)
		if len(vs.RealServers) == 0 && vs.SorryServer == nil {
			w.add(join(p, "real_servers"), "no real servers and no sorry server: connections to this service fail")
		}
		checks := []struct {
			path string
			hc   *HealthCheck
		}{{join(p, "health_check"), vs.HealthCheck}}
		for j, rs := range vs.RealServers {
			checks = append(checks, struct {
				path string
				hc   *HealthCheck
			}{fmt.Sprintf("%s.real_servers[%d].health_check", p, j), rs.HealthCheck})
		}
		for _, ck := range checks {
			if ck.hc == nil || ck.hc.Type == CheckNone {
				continue
			}
			iv := orDefault(ck.hc.Interval, DefaultCheckInterval)
			to := orDefault(ck.hc.Timeout, DefaultCheckTimeout)
			if to >= iv {
				w.add(join(ck.path, "timeout"), "%s is not shorter than the interval %s: a slow server is probed again before the last probe gave up", to, iv)
			}
		}
	}
	for i, in := range c.VRRPInstances {
		p := elem("vrrp_instances", i, in.Name)
		if !in.Preempts() && in.InitialState == InitialMaster {
			w.add(join(p, "preempt"), "preempt is off but initial_state is master: after a restart this box takes the addresses over anyway (use initial_state backup)")
		}
		if !in.Preempts() && in.PreemptDelay != 0 {
			w.add(join(p, "preempt_delay"), "has no effect while preempt is off")
		}
		if in.Priority != PriorityOwner {
			for j, va := range in.VirtualAddresses {
				if va.Address.IsValid() && ifaceAddrs[va.Address.Addr()] {
					w.add(fmt.Sprintf("%s.virtual_addresses[%d].address", p, j), "%s is an interface address of this box, which makes it the address owner: VRRP wants priority 255 for the owner", va.Address.Addr())
					break
				}
			}
		}
	}
	for i, sc := range c.VRRPScripts {
		iv := orDefault(sc.Interval, DefaultScriptInterval)
		if sc.Timeout > iv {
			w.add(join(elem("vrrp_scripts", i, sc.Name), "timeout"), "%s is longer than the interval %s: runs of the script overlap", sc.Timeout, iv)
		}
	}
	for i, g := range c.VRRPSyncGroups {
		if len(g.Members) == 1 {
			w.add(join(elem("vrrp_sync_groups", i, g.Name), "members"), "a sync group of one instance has no effect")
		}
	}
	if len(c.Users) > 0 {
		admin := false
		for _, u := range c.Users {
			admin = admin || u.Role == RoleAdmin
		}
		if !admin {
			w.add("users", "no user has the admin role: nobody can change users through the API")
		}
	}
	return w
}
