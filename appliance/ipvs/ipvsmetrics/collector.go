package ipvsmetrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// Snapshot is the table to expose: observed services (with stats) and the
// configured names of services by key.
type Snapshot struct {
	Services []ipvs.ServiceState
	Names    map[ipvs.ServiceKey]string
}

// Source returns the current table; Collect calls it once per scrape.
type Source func(ctx context.Context) (Snapshot, error)

// DefaultTimeout bounds one call of the Source.
const DefaultTimeout = 5 * time.Second

const ns = "lvsbox_ipvs"

// Collector is a prometheus.Collector of the IPVS table.
type Collector struct {
	src     Source
	timeout time.Duration

	up *prometheus.Desc

	svcConns, svcPkts, svcBytes, svcActive, svcInactive *prometheus.Desc
	svcCPS, svcPPS, svcBPS                              *prometheus.Desc

	rsConns, rsPkts, rsBytes, rsActive, rsInactive, rsPersist, rsWeight *prometheus.Desc
	rsCPS, rsPPS, rsBPS                                                 *prometheus.Desc
}

// New returns a Collector reading the table from src.
func New(src Source) *Collector {
	svc := []string{"service"}
	svcDir := []string{"service", "direction"}
	rs := []string{"service", "real_server"}
	rsDir := []string{"service", "real_server", "direction"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(ns+"_"+name, help, labels, nil)
	}
	return &Collector{
		src:     src,
		timeout: DefaultTimeout,
		up:      d("up", "1 if the IPVS table could be read, else 0.", nil),

		svcConns:    d("service_connections_total", "Connections scheduled by the virtual service.", svc),
		svcPkts:     d("service_packets_total", "Packets through the virtual service; direction in (client to server) or out (server to client, NAT only).", svcDir),
		svcBytes:    d("service_bytes_total", "Bytes through the virtual service; direction in or out (out: NAT only).", svcDir),
		svcActive:   d("service_active_connections", "Active (established) connections of the virtual service's real servers.", svc),
		svcInactive: d("service_inactive_connections", "Inactive connections of the virtual service's real servers.", svc),
		svcCPS:      d("service_connections_per_second", "Kernel estimate of the virtual service's connection rate.", svc),
		svcPPS:      d("service_packets_per_second", "Kernel estimate of the virtual service's packet rate.", svcDir),
		svcBPS:      d("service_bytes_per_second", "Kernel estimate of the virtual service's byte rate.", svcDir),

		rsConns:    d("real_server_connections_total", "Connections scheduled to the real server.", rs),
		rsPkts:     d("real_server_packets_total", "Packets through the real server; direction in or out (out: NAT only).", rsDir),
		rsBytes:    d("real_server_bytes_total", "Bytes through the real server; direction in or out (out: NAT only).", rsDir),
		rsActive:   d("real_server_active_connections", "Active (established) connections of the real server.", rs),
		rsInactive: d("real_server_inactive_connections", "Inactive connections of the real server.", rs),
		rsPersist:  d("real_server_persistent_connections", "Persistence templates pointing at the real server.", rs),
		rsWeight:   d("real_server_weight", "Weight of the real server in the kernel (0: draining or quiesced).", rs),
		rsCPS:      d("real_server_connections_per_second", "Kernel estimate of the real server's connection rate.", rs),
		rsPPS:      d("real_server_packets_per_second", "Kernel estimate of the real server's packet rate.", rsDir),
		rsBPS:      d("real_server_bytes_per_second", "Kernel estimate of the real server's byte rate.", rsDir),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up,
		c.svcConns, c.svcPkts, c.svcBytes, c.svcActive, c.svcInactive, c.svcCPS, c.svcPPS, c.svcBPS,
		c.rsConns, c.rsPkts, c.rsBytes, c.rsActive, c.rsInactive, c.rsPersist, c.rsWeight, c.rsCPS, c.rsPPS, c.rsBPS} {
		ch <- d
	}
}

// ServiceLabel is the service label of a service: its configured name, else its key
// ("tcp/192.0.2.100:80", "fwmark/7/ipv4").
func ServiceLabel(k ipvs.ServiceKey, names map[ipvs.ServiceKey]string) string {
	if n := names[k]; n != "" {
		return n
	}
	return k.String()
}

// Collect implements prometheus.Collector. A failing Source gives up 0 and nothing
// else, so the scrape itself still succeeds.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	snap, err := c.src(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	counter := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	for _, s := range snap.Services {
		svc := ServiceLabel(s.Key, snap.Names)
		counter(c.svcConns, s.Stats.Connections, svc)
		counter(c.svcPkts, s.Stats.InPackets, svc, "in")
		counter(c.svcPkts, s.Stats.OutPackets, svc, "out")
		counter(c.svcBytes, s.Stats.InBytes, svc, "in")
		counter(c.svcBytes, s.Stats.OutBytes, svc, "out")
		gauge(c.svcCPS, float64(s.Stats.ConnectionRate), svc)
		gauge(c.svcPPS, float64(s.Stats.InPacketRate), svc, "in")
		gauge(c.svcPPS, float64(s.Stats.OutPacketRate), svc, "out")
		gauge(c.svcBPS, float64(s.Stats.InByteRate), svc, "in")
		gauge(c.svcBPS, float64(s.Stats.OutByteRate), svc, "out")
		var active, inactive int
		for _, d := range s.Destinations {
			rs := d.Key.String()
			active += d.ActiveConns
			inactive += d.InactiveConns
			counter(c.rsConns, d.Stats.Connections, svc, rs)
			counter(c.rsPkts, d.Stats.InPackets, svc, rs, "in")
			counter(c.rsPkts, d.Stats.OutPackets, svc, rs, "out")
			counter(c.rsBytes, d.Stats.InBytes, svc, rs, "in")
			counter(c.rsBytes, d.Stats.OutBytes, svc, rs, "out")
			gauge(c.rsActive, float64(d.ActiveConns), svc, rs)
			gauge(c.rsInactive, float64(d.InactiveConns), svc, rs)
			gauge(c.rsPersist, float64(d.PersistConns), svc, rs)
			gauge(c.rsWeight, float64(d.Weight), svc, rs)
			gauge(c.rsCPS, float64(d.Stats.ConnectionRate), svc, rs)
			gauge(c.rsPPS, float64(d.Stats.InPacketRate), svc, rs, "in")
			gauge(c.rsPPS, float64(d.Stats.OutPacketRate), svc, rs, "out")
			gauge(c.rsBPS, float64(d.Stats.InByteRate), svc, rs, "in")
			gauge(c.rsBPS, float64(d.Stats.OutByteRate), svc, rs, "out")
		}
		gauge(c.svcActive, float64(active), svc)
		gauge(c.svcInactive, float64(inactive), svc)
	}
}

var _ prometheus.Collector = (*Collector)(nil)

// FromKernel returns a Source that reads the whole table from k on every scrape
// (one dump of the services and one per service for its real servers), naming the
// services with names (nil: keys only). Give it its own kernel handle (e.g. a second
// ipvs.OpenNetlink()) so that scrapes do not wait for the reconciler.
func FromKernel(k ipvs.Kernel, names func() map[ipvs.ServiceKey]string) Source {
	return func(ctx context.Context) (Snapshot, error) {
		svcs, err := k.Services(ctx)
		if err != nil {
			return Snapshot{}, err
		}
		s := Snapshot{Services: svcs}
		if names != nil {
			s.Names = names()
		}
		return s, nil
	}
}
