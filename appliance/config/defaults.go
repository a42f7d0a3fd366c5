package config

import "reflect"

// WithDefaults returns a deep copy of c with every defaulted field filled in, so that
// consumers never have to know a default themselves. It is idempotent, and a valid
// document stays valid.
func (c Config) WithDefaults() Config {
	out := c.Clone()
	s := &out.System
	if s.TimeZone == "" {
		s.TimeZone = DefaultTimeZone
	}
	if s.Syslog != nil {
		s.Syslog.Port = orDefault(s.Syslog.Port, DefaultSyslogPort)
		s.Syslog.Protocol = orDefault(s.Syslog.Protocol, "udp")
	}
	for i := range out.Interfaces {
		defaultInterface(&out.Interfaces[i])
	}
	for i := range out.Routes {
		out.Routes[i].Table = orDefault(out.Routes[i].Table, TableMain)
	}
	defaultIPVS(&out.IPVS)
	helo := orDefault(s.Hostname, DefaultHeloName)
	for i := range out.VirtualServices {
		defaultService(&out.VirtualServices[i], helo)
	}
	for i := range out.VRRPScripts {
		sc := &out.VRRPScripts[i]
		sc.Interval = orDefault(sc.Interval, DefaultScriptInterval)
		sc.Timeout = orDefault(sc.Timeout, sc.Interval)
		sc.Rise = orDefault(sc.Rise, DefaultScriptRise)
		sc.Fall = orDefault(sc.Fall, DefaultScriptFall)
	}
	for i := range out.VRRPInstances {
		defaultVRRP(&out.VRRPInstances[i])
	}
	return out
}

func defaultInterface(in *Interface) {
	in.Role = orDefault(in.Role, DefaultRole)
	if in.Role == RoleData {
		for _, f := range []**bool{&in.Offload.GRO, &in.Offload.LRO, &in.Offload.GROHW} {
			if *f == nil {
				*f = ptr(false)
			}
		}
	}
	if in.Bond != nil {
		in.Bond.Mode = orDefault(in.Bond.Mode, DefaultBondMode)
		in.Bond.MIIMon = orDefault(in.Bond.MIIMon, DefaultMIIMon)
	}
}

func defaultIPVS(v *IPVS) {
	v.Timeouts.TCP = orDefault(v.Timeouts.TCP, DefaultTCPTimeout)
	v.Timeouts.TCPFin = orDefault(v.Timeouts.TCPFin, DefaultTCPFinTimeout)
	v.Timeouts.UDP = orDefault(v.Timeouts.UDP, DefaultUDPTimeout)
	if v.DrainTime == nil {
		v.DrainTime = ptr(DefaultDrainTime)
	}
	sd := &v.SyncDaemon
	if !sd.MulticastGroup.IsValid() {
		sd.MulticastGroup = DefaultSyncGroup
	}
	sd.Port = orDefault(sd.Port, DefaultSyncPort)
	sd.TTL = orDefault(sd.TTL, DefaultSyncTTL)
}

func defaultService(vs *VirtualService, helo string) {
	if vs.IsFwmark() {
		vs.Family = orDefault(vs.Family, DefaultFwmarkFamily)
	} else {
		vs.Protocol = orDefault(vs.Protocol, DefaultProtocol)
	}
	vs.Scheduler = orDefault(vs.Scheduler, DefaultScheduler)
	vs.Forwarding = orDefault(vs.Forwarding, DefaultForwarding)
	if vs.Forwarding == ForwardingTun && vs.Tunnel == nil {
		vs.Tunnel = &Tunnel{}
	}
	if vs.Tunnel != nil {
		vs.Tunnel.Type = orDefault(vs.Tunnel.Type, DefaultTunnelType)
	}
	if p := vs.Persistence; p != nil {
		if vs.Is6() {
			p.PrefixLength = orDefault(p.PrefixLength, DefaultPersistPrefix6)
		} else if !p.Netmask.IsValid() {
			p.Netmask = DefaultPersistMask4
		}
	}
	if vs.HealthCheck != nil {
		defaultCheck(vs.HealthCheck, helo)
	}
	if ss := vs.SorryServer; ss != nil {
		ss.Port = orDefault(ss.Port, vs.Port)
	}
	if q := vs.Quorum; q != nil {
		q.MinimumWeight = orDefault(q.MinimumWeight, DefaultQuorumMinWeight)
	}
	for j := range vs.RealServers {
		rs := &vs.RealServers[j]
		rs.Port = orDefault(rs.Port, vs.Port)
		if rs.Weight == nil {
			rs.Weight = ptr(DefaultWeight)
		}
		rs.Forwarding = orDefault(rs.Forwarding, vs.Forwarding)
		if rs.Forwarding == ForwardingTun && rs.Tunnel == nil {
			if vs.Tunnel != nil {
				t := *vs.Tunnel
				rs.Tunnel = &t
			} else {
				rs.Tunnel = &Tunnel{}
			}
		}
		if rs.Tunnel != nil {
			rs.Tunnel.Type = orDefault(rs.Tunnel.Type, DefaultTunnelType)
		}
		rs.AdminState = orDefault(rs.AdminState, DefaultAdminState)
		if rs.HealthCheck != nil {
			defaultCheck(rs.HealthCheck, helo)
		}
	}
}

func defaultCheck(hc *HealthCheck, helo string) {
	if hc.Type == CheckNone {
		return
	}
	hc.Interval = orDefault(hc.Interval, DefaultCheckInterval)
	hc.Timeout = orDefault(hc.Timeout, DefaultCheckTimeout)
	hc.Rise = orDefault(hc.Rise, DefaultCheckRise)
	hc.Fall = orDefault(hc.Fall, DefaultCheckFall)
	hc.RetryDelay = orDefault(hc.RetryDelay, DefaultCheckRetryDelay)
	hc.OnFailure = orDefault(hc.OnFailure, DefaultOnFailure)
	switch hc.Type {
	case CheckHTTP, CheckHTTPS:
		if hc.HTTP == nil {
			hc.HTTP = &HTTPCheck{}
		}
		hc.HTTP.Method = orDefault(hc.HTTP.Method, DefaultHTTPMethod)
		hc.HTTP.Path = orDefault(hc.HTTP.Path, DefaultHTTPPath)
		if len(hc.HTTP.ExpectStatus) == 0 {
			hc.HTTP.ExpectStatus = []string{DefaultHTTPStatus}
		}
	case CheckUDP:
		if hc.UDP == nil {
			hc.UDP = &UDPCheck{}
		}
	case CheckDNS:
		if hc.DNS != nil {
			hc.DNS.Type = orDefault(hc.DNS.Type, DefaultDNSType)
			hc.DNS.ExpectRcode = orDefault(hc.DNS.ExpectRcode, DefaultDNSRcode)
		}
	case CheckSMTP:
		if hc.SMTP == nil {
			hc.SMTP = &SMTPCheck{}
		}
		hc.SMTP.HeloName = orDefault(hc.SMTP.HeloName, helo)
	case CheckScript:
		if hc.Script != nil {
			hc.Script.Timeout = orDefault(hc.Script.Timeout, hc.Timeout)
		}
	}
}

func defaultVRRP(v *VRRPInstance) {
	v.Version = orDefault(v.Version, DefaultVRRPVersion)
	v.Priority = orDefault(v.Priority, DefaultPriority)
	v.AdvertInterval = orDefault(v.AdvertInterval, DefaultAdvertInterval)
	if v.Preempt == nil {
		v.Preempt = ptr(true)
	}
	v.InitialState = orDefault(v.InitialState, DefaultInitialState)
	v.GARP.Count = orDefault(v.GARP.Count, DefaultGARPCount)
	v.GARP.Interval = orDefault(v.GARP.Interval, DefaultGARPInterval)
	for i := range v.VirtualRoutes {
		v.VirtualRoutes[i].Table = orDefault(v.VirtualRoutes[i].Table, TableMain)
	}
}

func ptr[T any](v T) *T { return &v }

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Clone returns a deep copy of c: no slice, map or pointer is shared with c.
func (c Config) Clone() Config {
	return deepCopy(reflect.ValueOf(c)).Interface().(Config)
}

// deepCopy copies v, duplicating every slice, map and pointer reachable through
// exported fields. Structs without exported fields (netip.Addr, time.Time) are
// immutable values and are copied as such.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(deepCopy(v.Elem()))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			out.SetMapIndex(k, deepCopy(v.MapIndex(k)))
		}
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return out
	}
	return v
}
