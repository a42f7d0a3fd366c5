package engine

import (
	"context"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// Health is the health checker as the engine sees it (appliance/healthd). Adopt
// and Configure are called from the engine's goroutine; Preview may be called from
// any.
type Health interface {
	// Adopt hands over the IPVS table as this process first found it in the kernel,
	// before the first Configure: service name → real server → weight of every
	// destination present. A real server the kernel already had in service does
	// not leave it just because the daemon restarted.
	Adopt(table map[string]map[ipvs.DestinationKey]int)
	// Configure makes cfg (revision rev) the configuration being applied and
	// returns the health verdicts for it.
	Configure(rev uint64, cfg config.Config) Verdicts
	// Preview returns the verdicts cfg would get now, changing nothing (dry runs).
	Preview(cfg config.Config) Verdicts
}

// Verdicts is the health checker's word on the real servers of every virtual
// service. A service without an entry is programmed as configured.
type Verdicts struct {
	// Generation changes whenever a verdict changes: writes on an unchanged
	// revision and generation are drift, others are health changes.
	Generation uint64
	Services   map[string]ServiceVerdict // by service name
}

// ServiceVerdict is the health verdict on one virtual service.
type ServiceVerdict struct {
	// Servers says, per real server, whether it belongs in the kernel table and
	// with which weight. Real servers without an entry are programmed as configured.
	Servers map[ipvs.DestinationKey]ServerVerdict
	// Sorry puts the service's sorry server into the table (no real server up, or
	// quorum lost).
	Sorry bool
}

// ServerVerdict is the desired state of one real server.
type ServerVerdict struct {
	Present bool // in the IPVS service at all
	Weight  int  // when present (0: quiesced or drained)
}

// ApplyHealth changes d's IPVS destinations as v says: absent real servers are
// dropped, present ones get the verdict's weight, and an active sorry server is
// added with weight 1 (replacing a real server with the same address and port).
// It is pure.
func (d *Desired) ApplyHealth(v Verdicts) {
	for i := range d.IPVS {
		st := &d.IPVS[i]
		sv, ok := v.Services[d.Names[st.Key]]
		if !ok {
			continue
		}
		dsts := st.Destinations[:0:0]
		sorry, hasSorry := d.Sorry[st.Key]
		for _, dst := range st.Destinations {
			if sv.Sorry && hasSorry && dst.Key == sorry.Key {
				continue
			}
			if sd, ok := sv.Servers[dst.Key]; ok {
				if !sd.Present {
					continue
				}
				dst.Weight = sd.Weight
			}
			dsts = append(dsts, dst)
		}
		if sv.Sorry && hasSorry {
			dsts = append(dsts, sorry)
		}
		st.Destinations = dsts
	}
}

// sorryDestination is the destination of a service's sorry server: the service's
// forwarding, weight 1 (keepalived's sorry_server).
func sorryDestination(vs config.VirtualService, ss config.SorryServer) ipvs.Destination {
	return ipvs.Destination{
		Key:        ipvs.DestinationKey{Addr: ss.Address, Port: uint16(ss.Port)},
		Forwarding: forwarding(vs.Forwarding),
		Weight:     1,
	}
}

// adoptTable names the services of an observed table by the configuration's
// names (services not in the configuration are left out).
func adoptTable(observed []ipvs.ServiceState, names map[ipvs.ServiceKey]string) map[string]map[ipvs.DestinationKey]int {
	out := map[string]map[ipvs.DestinationKey]int{}
	for _, s := range observed {
		name, ok := names[s.Key]
		if !ok {
			continue
		}
		m := map[ipvs.DestinationKey]int{}
		for _, d := range s.Destinations {
			m[d.Key] = d.Weight
		}
		out[name] = m
	}
	return out
}

// healthPass hands the configuration to the health checker (adopting the kernel's
// table on the first call of the process) and applies its verdicts to d.
func (e *Engine) healthPass(ctx context.Context, rev uint64, cfg config.Config, d *Desired) uint64 {
	h := e.o.Health
	if !e.healthStarted {
		e.healthStarted = true
		var table map[string]map[ipvs.DestinationKey]int
		if e.kernel == nil {
			if k, err := e.o.OpenIPVS(); err == nil {
				e.kernel = k
			}
		}
		if e.kernel != nil {
			if obs, err := e.kernel.Services(ctx); err == nil {
				table = adoptTable(obs, d.Names)
			} else {
				e.o.Log.Warn("health: kernel IPVS table unreadable at start; no real server adopted", "error", err)
			}
		} else {
			e.o.Log.Warn("health: IPVS unavailable at start; no real server adopted")
		}
		h.Adopt(table)
	}
	v := h.Configure(rev, cfg)
	d.ApplyHealth(v)
	return v.Generation
}
