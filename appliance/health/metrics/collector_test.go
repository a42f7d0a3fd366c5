package metrics

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/checker"
	"github.com/lvsbox/lvsbox/appliance/health/healthtest"
	"github.com/lvsbox/lvsbox/appliance/health/scheduler"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// coreSource serves snapshots of a Core driven by hand.
type coreSource struct {
	core *scheduler.Core
	now  time.Time
}

func (s *coreSource) Snapshot() scheduler.Snapshot { return s.core.Snapshot(s.now) }

func TestCollector(t *testing.T) {
	core := scheduler.NewCore(func(health.Spec, netip.AddrPort) (checker.Checker, error) {
		return healthtest.NewChecker(healthtest.Pass), nil
	}, healthtest.FixedRand{})
	spec := health.Spec{Type: health.TypeHTTP, Interval: time.Second, Rise: 1, Fall: 1}
	rs1 := netip.MustParseAddrPort("198.51.100.11:80")
	rs2 := netip.MustParseAddrPort("198.51.100.12:80")
	if _, err := core.Apply(t0, []scheduler.Subscription{
		{ID: "web/1", Service: "web", Server: rs1, Spec: spec},
		{ID: "api/1", Service: "api", Server: rs1, Spec: spec},
		{ID: "web/2", Service: "web", Server: rs2, Spec: spec},
	}); err != nil {
		t.Fatal(err)
	}
	src := &coreSource{core: core, now: t0.Add(5 * time.Second)}
	c := New(src, func() []ServiceStatus {
		return []ServiceStatus{{Service: "web", QuorumUp: true, UpWeight: 3, UpCount: 1, PriorityDelta: 0}}
	})
	// rs1 passes (up), rs2 fails (stays down).
	for _, j := range core.Due(t0, nil) {
		r := healthtest.Pass
		if strings.Contains(string(j.Key()), "198.51.100.12") {
			r = healthtest.Fail
		}
		core.Complete(t0, j, r)
		c.Observe(scheduler.Event{Type: health.TypeHTTP, Scheduled: t0, Started: t0.Add(2 * time.Millisecond), Result: r})
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := flatten(mfs)
	want := map[string]float64{
		`lvsbox_health_check_up{real_server="198.51.100.11:80",service="api",target="198.51.100.11:80",type="http"}`: 1,
		`lvsbox_health_check_up{real_server="198.51.100.11:80",service="web",target="198.51.100.11:80",type="http"}`: 1,
		`lvsbox_health_check_up{real_server="198.51.100.12:80",service="web",target="198.51.100.12:80",type="http"}`: 0,
		`lvsbox_health_check_transitions_total{target="198.51.100.11:80",type="http"}`:                               1,
		`lvsbox_health_check_transitions_total{target="198.51.100.12:80",type="http"}`:                               0,
		`lvsbox_health_check_state_seconds{target="198.51.100.11:80",type="http"}`:                                   5,
		`lvsbox_health_check_attempts_total{result="fail",target="198.51.100.12:80",type="http"}`:                    1,
		`lvsbox_health_check_last_duration_seconds{target="198.51.100.12:80",type="http"}`:                           0.001,
		`lvsbox_health_checks_total{result="fail",type="http"}`:                                                      1,
		`lvsbox_health_checks_total{result="pass",type="http"}`:                                                      1,
		`lvsbox_health_check_duration_seconds_count{result="pass",type="http"}`:                                      1,
		`lvsbox_health_scheduler_lateness_seconds_count`:                                                             2,
		`lvsbox_health_scheduler_lateness_seconds_sum`:                                                               0.004,
		`lvsbox_health_probes{type="http"}`:                                                                          2,
		`lvsbox_health_subscriptions{type="http"}`:                                                                   3,
		`lvsbox_health_service_up_weight{service="web"}`:                                                             3,
		`lvsbox_health_service_quorum_up{service="web"}`:                                                             1,
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing %s", k)
		} else if math.Abs(g-v) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// flatten turns gathered families into "name{labels}" -> value (histograms as
// _count and _sum).
func flatten(mfs []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(ls)
			lab := ""
			if len(ls) > 0 {
				lab = "{" + strings.Join(ls, ",") + "}"
			}
			name := mf.GetName()
			switch {
			case m.Gauge != nil:
				out[name+lab] = m.GetGauge().GetValue()
			case m.Counter != nil:
				out[name+lab] = m.GetCounter().GetValue()
			case m.Histogram != nil:
				out[name+"_count"+lab] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum"+lab] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}
