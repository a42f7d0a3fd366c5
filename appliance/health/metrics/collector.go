package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsbox/lvsbox/appliance/health/scheduler"
)

// Namespace prefixes every metric name.
const Namespace = "lvsbox_health"

// Source is where snapshots come from (a *scheduler.Scheduler).
type Source interface {
	Snapshot() scheduler.Snapshot
}

// ServiceStatus is the service-level state the caller computed (service.Outcome).
type ServiceStatus struct {
	Service       string
	QuorumUp      bool
	UpWeight      int
	UpCount       int
	Sorry         bool
	PriorityDelta int
	Fault         bool
}

// ServiceSource returns the current service states; nil is allowed.
type ServiceSource func() []ServiceStatus

// Collector is a prometheus.Collector for the health checker and a
// scheduler.Observer.
type Collector struct {
	src      Source
	services ServiceSource

	up, inState, lastDuration, flaps, transitions, checks *prometheus.Desc
	probes, subscriptions                                 *prometheus.Desc
	svcQuorum, svcUpWeight, svcUpCount, svcSorry          *prometheus.Desc
	svcPriority, svcFault                                 *prometheus.Desc

	duration *prometheus.HistogramVec
	results  *prometheus.CounterVec
	lateness prometheus.Histogram
}

// New returns a collector reading src (and services, which may be nil).
func New(src Source, services ServiceSource) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
	}
	sub := []string{"service", "real_server", "type", "target"}
	probe := []string{"type", "target"}
	return &Collector{
		src: src, services: services,
		up:            d("check_up", "1 if the real server's health check is up (in service), else 0.", sub...),
		inState:       d("check_state_seconds", "Seconds the probe has been in its current state.", probe...),
		lastDuration:  d("check_last_duration_seconds", "Duration of the probe's last attempt.", probe...),
		flaps:         d("check_flaps", "Up/down transitions of the probe in the last 10 minutes.", probe...),
		transitions:   d("check_transitions_total", "Up/down transitions of the probe since it was created.", probe...),
		checks:        d("check_attempts_total", "Attempts of the probe since it was created, by result.", append(probe, "result")...),
		probes:        d("probes", "Distinct probes (target, check spec) being run.", "type"),
		subscriptions: d("subscriptions", "Real servers with a health check (sharing probes).", "type"),
		svcQuorum:     d("service_quorum_up", "1 if the virtual service has quorum.", "service"),
		svcUpWeight:   d("service_up_weight", "Sum of the effective weights of up real servers.", "service"),
		svcUpCount:    d("service_up_servers", "Real servers up.", "service"),
		svcSorry:      d("service_sorry_active", "1 if the sorry server is in service.", "service"),
		svcPriority:   d("service_vrrp_priority_delta", "Priority delta the service asks VRRP to apply.", "service"),
		svcFault:      d("service_vrrp_fault", "1 if the service asks VRRP to go to FAULT.", "service"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "check_duration_seconds",
			Help:    "Duration of health check attempts, by type and result.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"type", "result"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "checks_total",
			Help: "Health check attempts, by type and result.",
		}, []string{"type", "result"}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "scheduler_lateness_seconds",
			Help:    "How much later than scheduled attempts started.",
			Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
	}
}

func result(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}

// Observe records one attempt (scheduler.Observer).
func (c *Collector) Observe(e scheduler.Event) {
	r := result(e.Result.OK)
	c.duration.WithLabelValues(string(e.Type), r).Observe(e.Result.Latency.Seconds())
	c.results.WithLabelValues(string(e.Type), r).Inc()
	c.lateness.Observe(max(e.Lateness(), 0).Seconds())
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.up, c.inState, c.lastDuration, c.flaps, c.transitions, c.checks, c.probes, c.subscriptions,
		c.svcQuorum, c.svcUpWeight, c.svcUpCount, c.svcSorry, c.svcPriority, c.svcFault,
	} {
		ch <- d
	}
	c.duration.Describe(ch)
	c.results.Describe(ch)
	c.lateness.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	snap := c.src.Snapshot()
	probesByType := map[string]int{}
	subsByType := map[string]int{}
	for _, p := range snap.Probes {
		typ, target := string(p.Type), p.Target.String()
		probesByType[typ]++
		gauge(c.inState, p.InState.Seconds(), typ, target)
		gauge(c.lastDuration, p.Last.Latency.Seconds(), typ, target)
		gauge(c.flaps, float64(p.Flaps), typ, target)
		counter(c.transitions, float64(p.Transitions), typ, target)
		counter(c.checks, float64(p.Checks-p.Failed), typ, target, "pass")
		counter(c.checks, float64(p.Failed), typ, target, "fail")
	}
	for _, s := range snap.Subscriptions {
		typ := string(s.Type)
		subsByType[typ]++
		v := 0.0
		if s.Up {
			v = 1
		}
		gauge(c.up, v, s.Service, s.Server.String(), typ, s.Target.String())
	}
	for typ, n := range probesByType {
		gauge(c.probes, float64(n), typ)
	}
	for typ, n := range subsByType {
		gauge(c.subscriptions, float64(n), typ)
	}
	if c.services != nil {
		for _, s := range c.services() {
			gauge(c.svcQuorum, b2f(s.QuorumUp), s.Service)
			gauge(c.svcUpWeight, float64(s.UpWeight), s.Service)
			gauge(c.svcUpCount, float64(s.UpCount), s.Service)
			gauge(c.svcSorry, b2f(s.Sorry), s.Service)
			gauge(c.svcPriority, float64(s.PriorityDelta), s.Service)
			gauge(c.svcFault, b2f(s.Fault), s.Service)
		}
	}
	c.duration.Collect(ch)
	c.results.Collect(ch)
	c.lateness.Collect(ch)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
