package ipvsmetrics

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvstest"
)

func snapshot() Snapshot {
	web := ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("192.0.2.100"), 80)
	dns := ipvs.AddrKey(ipvs.UDP, netip.MustParseAddr("2001:db8::53"), 53)
	return Snapshot{
		Names: map[ipvs.ServiceKey]string{web: "web"},
		Services: []ipvs.ServiceState{
			{
				Service: ipvs.Service{Key: web, Scheduler: "wrr"},
				Stats:   ipvs.Stats{Connections: 40, InPackets: 400, OutPackets: 300, InBytes: 40000, OutBytes: 90000, ConnectionRate: 2, InPacketRate: 20, OutPacketRate: 15, InByteRate: 2000, OutByteRate: 4500},
				Destinations: []ipvs.Destination{
					{Key: ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.11"), Port: 80}, Weight: 3, ActiveConns: 2, InactiveConns: 5, PersistConns: 1,
						Stats: ipvs.Stats{Connections: 30, InPackets: 300, OutPackets: 225, InBytes: 30000, OutBytes: 67500, ConnectionRate: 1}},
					{Key: ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.12"), Port: 80}, Weight: 1, ActiveConns: 1, InactiveConns: 0,
						Stats: ipvs.Stats{Connections: 10, InPackets: 100, OutPackets: 75, InBytes: 10000, OutBytes: 22500}},
				},
			},
			{Service: ipvs.Service{Key: dns, Scheduler: "rr"}, Stats: ipvs.Stats{Connections: 7, InPackets: 7, InBytes: 420},
				Destinations: []ipvs.Destination{{Key: ipvs.DestinationKey{Addr: netip.MustParseAddr("2001:db8::5"), Port: 53}, Weight: 1,
					Stats: ipvs.Stats{Connections: 7, InPackets: 7, InBytes: 420}}}},
		},
	}
}

func collector(snap Snapshot, err error) *Collector {
	return New(func(context.Context) (Snapshot, error) { return snap, err })
}

// gather registers c in a pedantic registry (which checks descriptions against the
// metrics) and returns the metric families.
func gather(t *testing.T, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatalf("register: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return mfs
}

// exposition renders the families named in names (all if none) as text.
func exposition(t *testing.T, mfs []*dto.MetricFamily, names ...string) string {
	t.Helper()
	var b strings.Builder
	for _, mf := range mfs {
		if len(names) > 0 && !slices.Contains(names, mf.GetName()) {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// lines returns the non-empty lines of an exposition, sorted.
func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, strings.TrimSpace(l))
		}
	}
	slices.Sort(out)
	return out
}

func series(mfs []*dto.MetricFamily) int {
	n := 0
	for _, mf := range mfs {
		n += len(mf.GetMetric())
	}
	return n
}

func TestCollect(t *testing.T) {
	c := collector(snapshot(), nil)
	want := `
# HELP lvsbox_ipvs_up 1 if the IPVS table could be read, else 0.
# TYPE lvsbox_ipvs_up gauge
lvsbox_ipvs_up 1
# HELP lvsbox_ipvs_service_connections_total Connections scheduled by the virtual service.
# TYPE lvsbox_ipvs_service_connections_total counter
lvsbox_ipvs_service_connections_total{service="udp/[2001:db8::53]:53"} 7
lvsbox_ipvs_service_connections_total{service="web"} 40
# HELP lvsbox_ipvs_service_packets_total Packets through the virtual service; direction in (client to server) or out (server to client, NAT only).
# TYPE lvsbox_ipvs_service_packets_total counter
lvsbox_ipvs_service_packets_total{direction="in",service="udp/[2001:db8::53]:53"} 7
lvsbox_ipvs_service_packets_total{direction="in",service="web"} 400
lvsbox_ipvs_service_packets_total{direction="out",service="udp/[2001:db8::53]:53"} 0
lvsbox_ipvs_service_packets_total{direction="out",service="web"} 300
# HELP lvsbox_ipvs_service_active_connections Active (established) connections of the virtual service's real servers.
# TYPE lvsbox_ipvs_service_active_connections gauge
lvsbox_ipvs_service_active_connections{service="udp/[2001:db8::53]:53"} 0
lvsbox_ipvs_service_active_connections{service="web"} 3
# HELP lvsbox_ipvs_service_inactive_connections Inactive connections of the virtual service's real servers.
# TYPE lvsbox_ipvs_service_inactive_connections gauge
lvsbox_ipvs_service_inactive_connections{service="udp/[2001:db8::53]:53"} 0
lvsbox_ipvs_service_inactive_connections{service="web"} 5
# HELP lvsbox_ipvs_real_server_bytes_total Bytes through the real server; direction in or out (out: NAT only).
# TYPE lvsbox_ipvs_real_server_bytes_total counter
lvsbox_ipvs_real_server_bytes_total{direction="in",real_server="198.51.100.11:80",service="web"} 30000
lvsbox_ipvs_real_server_bytes_total{direction="in",real_server="198.51.100.12:80",service="web"} 10000
lvsbox_ipvs_real_server_bytes_total{direction="in",real_server="[2001:db8::5]:53",service="udp/[2001:db8::53]:53"} 420
lvsbox_ipvs_real_server_bytes_total{direction="out",real_server="198.51.100.11:80",service="web"} 67500
lvsbox_ipvs_real_server_bytes_total{direction="out",real_server="198.51.100.12:80",service="web"} 22500
lvsbox_ipvs_real_server_bytes_total{direction="out",real_server="[2001:db8::5]:53",service="udp/[2001:db8::53]:53"} 0
# HELP lvsbox_ipvs_real_server_active_connections Active (established) connections of the real server.
# TYPE lvsbox_ipvs_real_server_active_connections gauge
lvsbox_ipvs_real_server_active_connections{real_server="198.51.100.11:80",service="web"} 2
lvsbox_ipvs_real_server_active_connections{real_server="198.51.100.12:80",service="web"} 1
lvsbox_ipvs_real_server_active_connections{real_server="[2001:db8::5]:53",service="udp/[2001:db8::53]:53"} 0
# HELP lvsbox_ipvs_real_server_weight Weight of the real server in the kernel (0: draining or quiesced).
# TYPE lvsbox_ipvs_real_server_weight gauge
lvsbox_ipvs_real_server_weight{real_server="198.51.100.11:80",service="web"} 3
lvsbox_ipvs_real_server_weight{real_server="198.51.100.12:80",service="web"} 1
lvsbox_ipvs_real_server_weight{real_server="[2001:db8::5]:53",service="udp/[2001:db8::53]:53"} 1
# HELP lvsbox_ipvs_service_connections_per_second Kernel estimate of the virtual service's connection rate.
# TYPE lvsbox_ipvs_service_connections_per_second gauge
lvsbox_ipvs_service_connections_per_second{service="udp/[2001:db8::53]:53"} 0
lvsbox_ipvs_service_connections_per_second{service="web"} 2
`
	names := []string{"lvsbox_ipvs_up", "lvsbox_ipvs_service_connections_total", "lvsbox_ipvs_service_packets_total",
		"lvsbox_ipvs_service_active_connections", "lvsbox_ipvs_service_inactive_connections",
		"lvsbox_ipvs_real_server_bytes_total", "lvsbox_ipvs_real_server_active_connections",
		"lvsbox_ipvs_real_server_weight", "lvsbox_ipvs_service_connections_per_second"}
	mfs := gather(t, c)
	if got, w := lines(exposition(t, mfs, names...)), lines(want); !slices.Equal(got, w) {
		t.Fatalf("exposition:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
	}
	// 12 series per service, 14 per real server, and up.
	if n := series(mfs); n != 1+2*12+3*14 {
		t.Errorf("%d series", n)
	}
}

func TestCollectLints(t *testing.T) {
	problems, err := promlint.NewWithMetricFamilies(gather(t, collector(snapshot(), nil))).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestCollectSourceFailure(t *testing.T) {
	c := collector(Snapshot{}, errors.New("no IPVS"))
	want := `
# HELP lvsbox_ipvs_up 1 if the IPVS table could be read, else 0.
# TYPE lvsbox_ipvs_up gauge
lvsbox_ipvs_up 0
`
	if got := lines(exposition(t, gather(t, c))); !slices.Equal(got, lines(want)) {
		t.Fatalf("exposition:\n%s", strings.Join(got, "\n"))
	}
}

func TestFromKernel(t *testing.T) {
	k := ipvstest.New()
	k.Seed(snapshot().Services...)
	web := snapshot().Services[0].Key
	c := New(FromKernel(k, func() map[ipvs.ServiceKey]string { return map[ipvs.ServiceKey]string{web: "web"} }))
	got := lines(exposition(t, gather(t, c), "lvsbox_ipvs_service_connections_total"))
	want := lines(`
# HELP lvsbox_ipvs_service_connections_total Connections scheduled by the virtual service.
# TYPE lvsbox_ipvs_service_connections_total counter
lvsbox_ipvs_service_connections_total{service="udp/[2001:db8::53]:53"} 7
lvsbox_ipvs_service_connections_total{service="web"} 40
`)
	if !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
	k.SetUnavailable(errors.New("no IPVS"))
	if got := lines(exposition(t, gather(t, c))); !slices.Contains(got, "lvsbox_ipvs_up 0") || len(got) != 3 {
		t.Fatalf("unavailable: %q", got)
	}
}
