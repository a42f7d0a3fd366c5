package healthd

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/scheduler"
	"github.com/lvsbox/lvsbox/appliance/health/service"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// SpecOf maps a configured health check (with its defaults applied) onto a
// health.Spec. ok is false for type none (no check: the server always counts as
// up). Every field of the check is mapped; the configuration has no `initial`
// (probes start down) and no CA for `verify` (system roots).
func SpecOf(hc config.HealthCheck) (spec health.Spec, ok bool) {
	if hc.Type == config.CheckNone || hc.Type == "" {
		return health.Spec{}, false
	}
	spec = health.Spec{
		Type:       health.Type(hc.Type),
		Interval:   hc.Interval.D(),
		Timeout:    hc.Timeout.D(),
		Rise:       hc.Rise,
		Fall:       hc.Fall,
		Retries:    hc.Retries,
		RetryDelay: hc.RetryDelay.D(),
		Address:    hc.TargetAddress,
		Port:       hc.TargetPort,
		Source:     hc.SourceAddress,
		Initial:    health.InitialDown,
	}
	if t := hc.TCP; t != nil {
		spec.TCP = &health.TCPSpec{HalfOpen: t.HalfOpen}
	}
	if h := hc.HTTP; h != nil {
		spec.HTTP = &health.HTTPSpec{
			Method: h.Method, Path: h.Path, Host: h.Host,
			ExpectStatus: append([]string(nil), h.ExpectStatus...),
			BodyContains: h.BodyContains, BodyRegex: h.BodyRegex, BodyDigest: strings.ToLower(h.BodyDigest),
			SNI: h.SNI, Verify: h.Verify, ClientCert: h.ClientCert, ClientKey: h.ClientKey,
		}
	}
	if u := hc.UDP; u != nil {
		spec.UDP = &health.UDPSpec{Payload: hexBytes(u.PayloadHex), Expect: hexBytes(u.ExpectHex)}
	}
	if d := hc.DNS; d != nil {
		spec.DNS = &health.DNSSpec{Name: d.Name, QType: d.Type, ExpectRcode: d.ExpectRcode, ExpectAnswer: d.ExpectAnswer}
	}
	if m := hc.SMTP; m != nil {
		spec.SMTP = &health.SMTPSpec{Helo: m.HeloName}
	}
	if sc := hc.Script; sc != nil {
		spec.Script = &health.ScriptSpec{Path: sc.Path, Args: append([]string(nil), sc.Args...),
			Timeout: sc.Timeout.D(), MiscDynamic: sc.DynamicWeight}
	}
	return spec, true
}

// hexBytes is the health package's spelling of hex data ("hex:..."); empty stays
// empty.
func hexBytes(h string) string {
	if h == "" {
		return ""
	}
	return "hex:" + h
}

// SubscriptionID names the check of one real server of one service; it is stable
// across configuration changes ("web/198.51.100.11:80").
func SubscriptionID(service string, server netip.AddrPort) string {
	return service + "/" + server.String()
}

// parseID splits a SubscriptionID (service names contain no "/").
func parseID(id string) (svc, server string) {
	svc, server, _ = strings.Cut(id, "/")
	return svc, server
}

// model is what a configuration means to the health checker.
type model struct {
	services []svcModel
	subs     []scheduler.Subscription // one per checked real server with a valid spec
	checked  int                      // real servers with a check (valid or not)
}

type svcModel struct {
	name       string
	spec       service.Spec
	sorry      *netip.AddrPort
	servers    []member // enabled and drained real servers, in configuration order
	disabled   []netip.AddrPort
	trackDelta []int // weights of the vrrp_instances[].track_services entries naming it
}

type member struct {
	server    netip.AddrPort
	key       ipvs.DestinationKey
	id        string // subscription ID; "" when unchecked
	checkType string // "" when unchecked
	spec      health.Spec
	probe     health.Key // the probe's dedup key (valid spec only)
	err       string     // the check cannot run (invalid spec): never up
	weight    int        // configured weight; 0 when drained
	drain     bool
	onFailure service.OnFailure
}

// buildModel maps cfg onto subscriptions and service models.
func buildModel(cfg config.Config) model {
	cfg = cfg.WithDefaults()
	var m model
	tracks := map[string][]int{}
	for _, in := range cfg.VRRPInstances {
		for _, ts := range in.TrackServices {
			tracks[ts.Service] = append(tracks[ts.Service], ts.Weight)
		}
	}
	for _, vs := range cfg.VirtualServices {
		sm := svcModel{name: vs.Name, spec: service.Spec{Quorum: 1}, trackDelta: tracks[vs.Name]}
		if q := vs.Quorum; q != nil {
			sm.spec.Quorum, sm.spec.Hysteresis = q.MinimumWeight, q.Hysteresis
		}
		if ss := vs.SorryServer; ss != nil {
			ap := netip.AddrPortFrom(ss.Address, uint16(ss.Port))
			sm.sorry, sm.spec.Sorry = &ap, true
		}
		for _, rs := range vs.RealServers {
			server := netip.AddrPortFrom(rs.Address, uint16(rs.Port))
			if rs.AdminState == config.StateDisabled {
				sm.disabled = append(sm.disabled, server)
				continue
			}
			mb := member{server: server, key: ipvs.DestinationKey{Addr: rs.Address, Port: uint16(rs.Port)},
				weight: rs.EffectiveWeight(), drain: rs.AdminState == config.StateDrain, onFailure: service.Remove}
			if mb.drain {
				mb.weight = 0
			}
			hc := vs.HealthCheck
			if rs.HealthCheck != nil {
				hc = rs.HealthCheck
			}
			if hc != nil {
				if hc.OnFailure == config.OnFailureQuiesce {
					mb.onFailure = service.Quiesce
				}
				if spec, ok := SpecOf(*hc); ok {
					m.checked++
					mb.id, mb.checkType, mb.spec = SubscriptionID(vs.Name, server), string(spec.Type), spec
					full := spec.WithDefaults()
					if err := full.Validate(); err != nil {
						mb.err = fmt.Sprintf("check cannot run: %v", strings.ReplaceAll(err.Error(), "\n", "; "))
					} else {
						mb.probe = full.Key(server)
						m.subs = append(m.subs, scheduler.Subscription{ID: mb.id, Service: vs.Name, Server: server, Spec: spec})
					}
				}
			}
			sm.servers = append(sm.servers, mb)
		}
		m.services = append(m.services, sm)
	}
	return m
}
