package engine

import (
	"slices"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/netcfg"
	"github.com/lvsbox/lvsbox/appliance/nic"
	"github.com/lvsbox/lvsbox/appliance/sysctl"
)

// Desired is the complete kernel state a configuration asks for.
type Desired struct {
	Net  netcfg.Desired
	IPVS []ipvs.ServiceState
	// Names maps each IPVS service to its configured name (for status and logs).
	Names map[ipvs.ServiceKey]string
	// Sorry holds the sorry server of each service that has one. It is not in IPVS:
	// ApplyHealth puts it there while the health checker says so.
	Sorry map[ipvs.ServiceKey]ipvs.Destination
	// Paths names the configuration object behind each service and destination.
	Paths map[ipvs.ServiceKey]ObjectPaths
	// IPVSGlobals are the timeouts and sync daemons; DrainTime is ipvs.drain_time.
	IPVSGlobals IPVSGlobals
	DrainTime   time.Duration
	// NICs and Sysctls are the director tuning (see tuning.go).
	NICs    []nic.Interface
	Sysctls sysctl.Input
}

// Compile turns a valid configuration into desired state. It is pure; defaults are
// applied here so callers may pass the document as stored.
func Compile(c config.Config) Desired {
	c = c.WithDefaults()
	d := Desired{
		Net: netcfg.Desired{
			Hostname: c.System.Hostname,
		},
		Names:       map[ipvs.ServiceKey]string{},
		Sorry:       map[ipvs.ServiceKey]ipvs.Destination{},
		Paths:       map[ipvs.ServiceKey]ObjectPaths{},
		IPVSGlobals: compileGlobals(c.IPVS),
		DrainTime:   drainTime(c.IPVS),
		NICs:        compileNICs(c),
		Sysctls:     compileSysctls(c),
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
	for i, vs := range c.VirtualServices {
		st, paths := compileService(i, vs)
		key := st.Key
		d.Paths[key] = paths
		d.IPVS = append(d.IPVS, st)
		d.Names[key] = vs.Name
		if ss := vs.SorryServer; ss != nil {
			d.Sorry[key] = sorryDestination(vs, *ss)
		}
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
