package engine

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// IPVSGlobals is the kernel-wide IPVS state a configuration asks for.
type IPVSGlobals struct {
	Timeouts ipvs.Timeouts
	// SyncDaemons are the connection-sync daemons to run: none, or a master and a
	// backup on the same interface and sync id (both on every node).
	SyncDaemons []ipvs.SyncDaemon
}

// ObjectPaths names the configuration objects behind the IPVS table, for errors.
type ObjectPaths struct {
	Service string                         // virtual_services[web]
	Dests   map[ipvs.DestinationKey]string // virtual_services[web].real_servers[2]
}

// serviceKey is the IPVS key of a (defaulted) virtual service.
func serviceKey(vs config.VirtualService) ipvs.ServiceKey {
	if vs.IsFwmark() {
		fam := uint8(4)
		if vs.Is6() {
			fam = 6
		}
		return ipvs.MarkKey(fam, vs.Fwmark)
	}
	return ipvs.AddrKey(protocol(vs.Protocol), vs.Address, uint16(vs.Port))
}

// schedFlags maps the configuration's scheduler flags to IP_VS_SVC_F_SCHED1/2
// (the kernel's SH_FALLBACK/MH_FALLBACK = SCHED1, SH_PORT/MH_PORT = SCHED2).
var schedFlags = map[string]uint32{
	"sh-fallback": ipvs.FlagSched1,
	"sh-port":     ipvs.FlagSched2,
	"mh-fallback": ipvs.FlagSched1,
	"mh-port":     ipvs.FlagSched2,
}

// compileService maps one defaulted virtual service to its IPVS state (every real
// server not disabled; drain = weight 0) and the configuration paths of its objects.
// It is pure.
func compileService(i int, vs config.VirtualService) (ipvs.ServiceState, ObjectPaths) {
	svc := ipvs.Service{Key: serviceKey(vs), Scheduler: vs.Scheduler, Netmask: 32}
	if vs.Is6() {
		svc.Netmask = 128
	}
	for _, f := range vs.SchedulerFlags {
		svc.Flags |= schedFlags[f]
	}
	if vs.OnePacket {
		svc.Flags |= ipvs.FlagOnePacket
	}
	if p := vs.Persistence; p != nil {
		svc.Flags |= ipvs.FlagPersistent
		svc.Timeout = uint32(time.Duration(p.Timeout) / time.Second)
		switch {
		case vs.Is6() && p.PrefixLength > 0:
			svc.Netmask = uint8(p.PrefixLength)
		case !vs.Is6() && p.Netmask.IsValid():
			if bits, ok := maskBits(p.Netmask); ok {
				svc.Netmask = uint8(bits)
			}
		}
	}
	paths := ObjectPaths{Service: elemPath("virtual_services", i, vs.Name), Dests: map[ipvs.DestinationKey]string{}}
	st := ipvs.ServiceState{Service: svc}
	for j, rs := range vs.RealServers {
		if rs.AdminState == config.StateDisabled {
			continue
		}
		d := ipvs.Destination{
			Key:            ipvs.DestinationKey{Addr: rs.Address, Port: uint16(rs.Port)},
			Forwarding:     forwarding(rs.Forwarding),
			Weight:         rs.EffectiveWeight(),
			UpperThreshold: rs.UpperThreshold,
			LowerThreshold: rs.LowerThreshold,
		}
		if rs.AdminState == config.StateDrain {
			d.Weight = 0
		}
		if d.Forwarding == ipvs.Tunnel && rs.Tunnel != nil {
			d.TunnelType = tunnelType(rs.Tunnel.Type)
			if d.TunnelType == ipvs.TunnelGUE {
				d.TunnelPort = uint16(rs.Tunnel.Port)
			}
		}
		st.Destinations = append(st.Destinations, d)
		paths.Dests[d.Key] = fmt.Sprintf("%s.real_servers[%d]", paths.Service, j)
	}
	return st, paths
}

// compileGlobals maps the (defaulted) ipvs section.
func compileGlobals(v config.IPVS) IPVSGlobals {
	g := IPVSGlobals{Timeouts: ipvs.Timeouts{
		TCP: time.Duration(v.Timeouts.TCP), TCPFin: time.Duration(v.Timeouts.TCPFin), UDP: time.Duration(v.Timeouts.UDP),
	}}
	if sd := v.SyncDaemon; sd.Enabled {
		for _, state := range []ipvs.SyncState{ipvs.SyncMaster, ipvs.SyncBackup} {
			g.SyncDaemons = append(g.SyncDaemons, ipvs.SyncDaemon{State: state, Interface: sd.Interface,
				SyncID: uint8(sd.SyncID), Group: sd.MulticastGroup, Port: uint16(sd.Port), TTL: uint8(sd.TTL)})
		}
	}
	return g
}

// drainTime is ipvs.drain_time of a defaulted configuration.
func drainTime(v config.IPVS) time.Duration {
	if v.DrainTime == nil {
		return time.Duration(config.DefaultDrainTime)
	}
	return time.Duration(*v.DrainTime)
}

func tunnelType(t config.TunnelType) ipvs.TunnelType {
	switch t {
	case config.TunnelGUE:
		return ipvs.TunnelGUE
	case config.TunnelGRE:
		return ipvs.TunnelGRE
	}
	return ipvs.TunnelIPIP
}

// maskBits is the prefix length of a contiguous IPv4 netmask.
func maskBits(m netip.Addr) (int, bool) {
	if !m.Is4() {
		return 0, false
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return 0, false
	}
	return n, true
}

// elemPath names a list element as configuration errors do (config's elem): by its
// name when that cannot be misread, else by index.
func elemPath(parent string, i int, name string) string {
	if name != "" && !strings.ContainsAny(name, "[] ") && strings.Trim(name, "0123456789") != "" {
		return fmt.Sprintf("%s[%s]", parent, name)
	}
	return fmt.Sprintf("%s[%d]", parent, i)
}
