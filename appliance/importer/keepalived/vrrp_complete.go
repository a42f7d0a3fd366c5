package keepalived

import (
	"fmt"
	"slices"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// completeInstance applies keepalived's defaults and consistency rules
// (vrrp_complete_instance) to the settings read from the block, so that the lvsbox
// instance behaves as the keepalived one did; every correction keepalived would
// make is a note.
func (m *mapper) completeInstance(n *Node, in *config.VRRPInstance, s *instanceSettings, at func(string, importer.Pos)) {
	if in.Interface == "" {
		in.Interface = m.g.defaultIface
		m.info(n, "no interface: keepalived's default interface %s is used", in.Interface)
	}
	m.iface(in.Interface, n, "vrrp_instance "+in.Name)
	m.virtualAddresses(in, s, at)
	family6 := len(in.VirtualAddresses) > 0 && in.VirtualAddresses[0].Address.Addr().Is6()

	strict := m.g.strict
	if s.strict != nil {
		strict = *s.strict
	}
	switch {
	case s.version == 2 && family6:
		in.Version = 3
		m.warn(n, "IPv6 addresses with VRRP version 2: lvsbox speaks version 3 for IPv6 (keepalived peers must use version 3 too)")
	case s.version != 0:
		in.Version = s.version
	case family6:
		in.Version = 3
	default:
		in.Version = m.g.vrrpVersion
	}

	in.Priority = s.priority
	if in.Priority == 0 {
		in.Priority = config.DefaultPriority
		if s.state == "MASTER" {
			in.Priority = config.PriorityOwner
			m.fail(n, "no priority with state MASTER: keepalived makes this instance the address owner (priority 255); lvsbox accepts 255 only when the virtual addresses are interface addresses of this box: set a priority (e.g. 254) or configure the addresses")
		}
	}
	owner := in.Priority == config.PriorityOwner
	state := s.state
	switch {
	case state == "":
		state = map[bool]string{true: "MASTER", false: "BACKUP"}[owner]
	case strict && (state == "MASTER") != owner:
		state = map[bool]string{true: "MASTER", false: "BACKUP"}[owner]
		m.warn(n, "strict mode: the initial state must match being the address owner; keepalived uses %s, and so does the import", state)
	}
	if state == "MASTER" {
		in.InitialState = config.InitialMaster
	}

	m.instanceAuth(in, s, strict)

	if s.nopreempt && owner {
		s.nopreempt = false
		m.warn(n, "nopreempt does not apply to the address owner (priority 255); keepalived clears it, and so does the import")
	}
	if s.nopreempt && state == "MASTER" {
		s.nopreempt = false
		m.warn(n, "nopreempt does not work with state MASTER; keepalived clears it, and so does the import (set state BACKUP on every node for no-preempt behaviour)")
	}
	if s.preemptDelay != 0 {
		switch {
		case state == "MASTER":
			m.warn(s.preemptDelayAt, "preempt_delay does not work with state MASTER; keepalived clears it, and so does the import")
		case strict:
			m.warn(s.preemptDelayAt, "preempt_delay is incompatible with strict mode; keepalived clears it, and so does the import")
		case s.nopreempt:
			m.warn(s.preemptDelayAt, "preempt_delay has no effect with nopreempt; keepalived clears it, and so does the import")
		default:
			in.PreemptDelay = s.preemptDelay
			at(".preempt_delay", s.preemptDelayAt.Pos)
		}
	}
	if s.nopreempt {
		in.Preempt = new(false)
	}

	accept := owner || !strict
	if s.accept != nil {
		accept = *s.accept
	}
	if accept && !owner && strict && in.Version == 2 {
		accept = false
		m.warn(n, "strict mode: accept mode with VRRP version 2 does not comply with RFC 3768; keepalived turns it off, and so does the import")
	}
	in.Accept = accept
	if s.accept == nil && accept && !owner {
		m.info(n, "accept mode on: keepalived accepts traffic to the virtual addresses unless vrrp_strict or no_accept is set (the virtual services need it)")
	}

	m.instanceUnicast(in, s, at)
	in.GARP = mergeGARP(m.g.garp, in.GARP)
}

// instanceAuth maps authentication, as far as keepalived would use it.
func (m *mapper) instanceAuth(in *config.VRRPInstance, s *instanceSettings, strict bool) {
	if s.authAt == nil {
		return
	}
	n := s.authAt
	switch {
	case strict:
		m.drop(n, importer.Warning, "not mapped: strict mode does not support authentication (keepalived ignores it too)")
	case in.Version == 3:
		m.drop(n, importer.Warning, "not mapped: VRRP version 3 has no authentication (keepalived ignores it too)")
	case s.authType == "":
		m.drop(n, importer.Warning, "not mapped: no auth_type")
	case s.authPass == "":
		m.drop(n, importer.Warning, "not mapped: authentication without auth_pass (keepalived ignores it too)")
	case s.authType == "AH":
		m.drop(n, importer.Warning, "not mapped: lvsbox has PASS authentication only, no IPsec AH; keepalived peers using AH will ignore lvsbox's adverts (use no authentication, or PASS, on every node)")
	default:
		pass := s.authPass
		if len(pass) > 8 {
			pass = pass[:8]
			m.warn(n, "auth_pass is longer than 8 characters; keepalived truncates it to %q, and so does the import", pass)
		}
		in.AuthPass = pass
	}
}

// instanceUnicast maps unicast peers and the advert source address.
func (m *mapper) instanceUnicast(in *config.VRRPInstance, s *instanceSettings, at func(string, importer.Pos)) {
	src := s.unicastSrc
	if !src.IsValid() {
		src = s.mcastSrc
	}
	if len(in.UnicastPeers) > 0 {
		in.Unicast = true
		if src.IsValid() {
			in.UnicastSource = src
			at(".unicast_source", s.srcAt.Pos)
		}
		return
	}
	if s.srcAt != nil {
		m.drop(s.srcAt, importer.Warning, "not mapped: lvsbox sends multicast adverts from the interface's primary address")
	}
}

// virtualAddresses maps virtual_ipaddress and virtual_ipaddress_excluded.
func (m *mapper) virtualAddresses(in *config.VRRPInstance, s *instanceSettings, at func(string, importer.Pos)) {
	add := func(line *Node, excluded bool) {
		p, dev, ok := m.addressLine(line)
		if !ok {
			return
		}
		va := config.VirtualAddress{Address: p}
		if dev != "" && dev != in.Interface {
			va.Device = dev
			m.iface(dev, line, "a virtual address of vrrp_instance "+in.Name)
		}
		if len(in.VirtualAddresses) > 0 && in.VirtualAddresses[0].Address.Addr().Is6() != p.Addr().Is6() {
			if excluded {
				m.drop(line, importer.Warning, "not mapped: an lvsbox instance carries one address family; make a second instance (version 3) for %s", p)
			} else {
				m.drop(line, importer.Warning, "not mapped: %s is not the family of the instance's first address (keepalived ignores it too)", p)
			}
			return
		}
		if slices.ContainsFunc(in.VirtualAddresses, func(o config.VirtualAddress) bool { return o.Address.Addr() == p.Addr() }) {
			m.warn(line, "%s is listed twice; the repetition is ignored", p.Addr())
			return
		}
		if excluded {
			m.info(line, "excluded address %s is mapped as a virtual address; lvsbox announces it in the adverts too", p)
		}
		at(fmt.Sprintf(".virtual_addresses[%d]", len(in.VirtualAddresses)), line.Pos)
		in.VirtualAddresses = append(in.VirtualAddresses, va)
	}
	for _, line := range s.vips {
		add(line, false)
	}
	for _, line := range s.evips {
		add(line, true)
	}
}

// mergeGARP overlays an instance's GARP settings on the global ones.
func mergeGARP(global, local config.GARP) config.GARP {
	if local.Count == 0 {
		local.Count = global.Count
	}
	if local.Interval == 0 {
		local.Interval = global.Interval
	}
	if local.Refresh == 0 {
		local.Refresh = global.Refresh
	}
	return local
}
