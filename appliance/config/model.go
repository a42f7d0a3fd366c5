package config

import "net/netip"

// SchemaVersion is the version of the document format described here.
const SchemaVersion = 1

// Config is one complete lvsbox configuration document.
type Config struct {
	System          System           `json:"system"`
	Interfaces      []Interface      `json:"interfaces,omitempty"`
	Routes          []Route          `json:"routes,omitempty"`
	VirtualServices []VirtualService `json:"virtual_services,omitempty"`
}

// System holds box-wide settings.
type System struct {
	// Hostname is the kernel host name; empty leaves it as PID 1 set it.
	Hostname string `json:"hostname,omitempty"`
}

// Interface lists the addresses lvsbox keeps on one network interface.
type Interface struct {
	Name      string         `json:"name"`
	Addresses []netip.Prefix `json:"addresses,omitempty"`
}

// Route is a static route through a gateway in the main routing table.
type Route struct {
	Destination netip.Prefix `json:"destination"`
	Gateway     netip.Addr   `json:"gateway"`
}

// Protocol is the transport protocol of a virtual service.
type Protocol string

// Protocols a virtual service may use.
const (
	ProtocolTCP  Protocol = "tcp"
	ProtocolUDP  Protocol = "udp"
	ProtocolSCTP Protocol = "sctp"
)

// Forwarding is how IPVS hands packets to a real server.
type Forwarding string

// Forwarding methods.
const (
	ForwardingNAT Forwarding = "nat" // masquerading: the box rewrites the destination
	ForwardingDR  Forwarding = "dr"  // direct routing: same L2 segment, VIP on the real server
	ForwardingTun Forwarding = "tun" // IP-in-IP tunnel to the real server
)

// VirtualService is one IPVS virtual service and its real servers.
type VirtualService struct {
	Name        string       `json:"name"`
	Protocol    Protocol     `json:"protocol,omitempty"`
	Address     netip.Addr   `json:"address"`
	Port        int          `json:"port"`
	Scheduler   string       `json:"scheduler,omitempty"`
	Forwarding  Forwarding   `json:"forwarding,omitempty"`
	RealServers []RealServer `json:"real_servers,omitempty"`
}

// RealServer is one destination behind a virtual service.
type RealServer struct {
	Address netip.Addr `json:"address"`
	// Port 0 (or absent) means the virtual service's port.
	Port int `json:"port,omitempty"`
	// Weight nil means DefaultWeight; 0 is a valid weight (no new connections).
	Weight *int `json:"weight,omitempty"`
	// Forwarding empty means the virtual service's forwarding.
	Forwarding Forwarding `json:"forwarding,omitempty"`
}

// Defaults applied by WithDefaults.
const (
	DefaultProtocol   = ProtocolTCP
	DefaultScheduler  = "wlc"
	DefaultForwarding = ForwardingDR
	DefaultWeight     = 1
)

// Schedulers are the IPVS schedulers the Debian kernel ships (see platform facts).
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"}

// WithDefaults returns a deep copy of c with every defaulted field filled in, so that
// consumers never have to know a default themselves.
func (c Config) WithDefaults() Config {
	out := c.Clone()
	for i := range out.VirtualServices {
		vs := &out.VirtualServices[i]
		if vs.Protocol == "" {
			vs.Protocol = DefaultProtocol
		}
		if vs.Scheduler == "" {
			vs.Scheduler = DefaultScheduler
		}
		if vs.Forwarding == "" {
			vs.Forwarding = DefaultForwarding
		}
		for j := range vs.RealServers {
			rs := &vs.RealServers[j]
			if rs.Port == 0 {
				rs.Port = vs.Port
			}
			if rs.Weight == nil {
				w := DefaultWeight
				rs.Weight = &w
			}
			if rs.Forwarding == "" {
				rs.Forwarding = vs.Forwarding
			}
		}
	}
	return out
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	out := c
	out.Interfaces = cloneSlice(c.Interfaces)
	for i := range out.Interfaces {
		out.Interfaces[i].Addresses = cloneSlice(c.Interfaces[i].Addresses)
	}
	out.Routes = cloneSlice(c.Routes)
	out.VirtualServices = cloneSlice(c.VirtualServices)
	for i := range out.VirtualServices {
		rss := cloneSlice(c.VirtualServices[i].RealServers)
		for j := range rss {
			if w := rss[j].Weight; w != nil {
				v := *w
				rss[j].Weight = &v
			}
		}
		out.VirtualServices[i].RealServers = rss
	}
	return out
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}

// EffectiveWeight returns the real server's weight with the default applied.
func (rs RealServer) EffectiveWeight() int {
	if rs.Weight == nil {
		return DefaultWeight
	}
	return *rs.Weight
}
