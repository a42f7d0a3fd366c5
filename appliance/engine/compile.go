package engine

import (
	"slices"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/netcfg"
)

// Desired is the complete kernel state a configuration asks for.
type Desired struct {
	Net  netcfg.Desired
	IPVS []ipvs.ServiceState
	// Names maps each IPVS service to its configured name (for status and logs).
	Names map[ipvs.ServiceKey]string
}

// Compile turns a valid configuration into desired state. It is pure; defaults are
// applied here so callers may pass the document as stored.
func Compile(c config.Config) Desired {
	c = c.WithDefaults()
	d := Desired{
		Net: netcfg.Desired{
			Hostname: c.System.Hostname,
			Sysctls:  map[string]string{},
		},
		Names: map[ipvs.ServiceKey]string{},
	}
	for _, in := range c.Interfaces {
		d.Net.Links = append(d.Net.Links, netcfg.Link{Name: in.Name, Addresses: slices.Clone(in.Addresses)})
	}
	for _, r := range c.Routes {
		// netcfg manages main-table routes via a gateway only; device routes, other
		// tables and metrics are not compiled yet.
		if !r.Gateway.IsValid() || r.Device != "" || r.Metric != 0 || r.Table != config.TableMain {
			continue
		}
		d.Net.Routes = append(d.Net.Routes, netcfg.Route{Destination: r.Destination, Gateway: r.Gateway})
	}
	for _, vs := range c.VirtualServices {
		key := ipvs.AddrKey(protocol(vs.Protocol), vs.Address, uint16(vs.Port))
		if vs.IsFwmark() {
			fam := uint8(4)
			if vs.Is6() {
				fam = 6
			}
			key = ipvs.MarkKey(fam, vs.Fwmark)
		}
		netmask := uint8(128)
		if !vs.Is6() {
			netmask = 32
		}
		st := ipvs.ServiceState{Service: ipvs.Service{Key: key, Scheduler: vs.Scheduler, Netmask: netmask}}
		nat := vs.Forwarding == config.ForwardingNAT
		for _, rs := range vs.RealServers {
			if rs.AdminState == config.StateDisabled {
				continue
			}
			weight := rs.EffectiveWeight()
			if rs.AdminState == config.StateDrain {
				weight = 0
			}
			st.Destinations = append(st.Destinations, ipvs.Destination{
				Key:        ipvs.DestinationKey{Addr: rs.Address, Port: uint16(rs.Port)},
				Forwarding: forwarding(rs.Forwarding),
				Weight:     weight,
			})
			nat = nat || rs.Forwarding == config.ForwardingNAT
		}
		if nat {
			if !vs.Is6() {
				d.Net.Sysctls[netcfg.SysctlIPv4Forward] = "1"
			} else {
				d.Net.Sysctls[netcfg.SysctlIPv6Forward] = "1"
			}
		}
		d.IPVS = append(d.IPVS, st)
		d.Names[key] = vs.Name
	}
	return d
}

func protocol(p config.Protocol) ipvs.Protocol {
	switch p {
	case config.ProtocolUDP:
		return ipvs.UDP
	case config.ProtocolSCTP:
		return ipvs.SCTP
	}
	return ipvs.TCP
}

func forwarding(f config.Forwarding) ipvs.Forwarding {
	switch f {
	case config.ForwardingDR:
		return ipvs.DirectRoute
	case config.ForwardingTun:
		return ipvs.Tunnel
	}
	return ipvs.NAT
}
