package vrrpd

import (
	"maps"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
)

// constCollector yields fixed series like node.Collector does.
type constCollector struct{ inst string }

var (
	descState = prometheus.NewDesc("lvsbox_vrrp_state", "state", []string{"instance"}, nil)
	descSock  = prometheus.NewDesc("lvsbox_vrrp_socket_received_total", "socket", []string{"interface", "family"}, nil)
)

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descState; ch <- descSock }
func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, 2, c.inst)
	ch <- prometheus.MustNewConstMetric(descSock, prometheus.CounterValue, 10, "eth0", "IPv4")
}

type collMgr struct {
	fakeMgr
	c prometheus.Collector
}

func (m *collMgr) Collector() prometheus.Collector { return m.c }

func TestCollectorMergesUnits(t *testing.T) {
	s := New(Options{Source: (&fakeSource{}).get})
	for _, name := range []string{"a", "b"} {
		u := &unit{Unit: Unit{Key: "instance/" + name}, mgr: &collMgr{fakeMgr: fakeMgr{cfg: node.Config{}}, c: constCollector{name}}}
		s.order = append(s.order, u.Key)
		s.byKey[u.Key] = u
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			var l []string
			for _, lp := range m.Label {
				l = append(l, lp.GetName()+"="+lp.GetValue())
			}
			got[mf.GetName()+"{"+strings.Join(l, ",")+"}"] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"lvsbox_vrrp_socket_received_total{family=IPv4,interface=eth0}": 20,
		"lvsbox_vrrp_state{instance=a}":                                 2,
		"lvsbox_vrrp_state{instance=b}":                                 2,
	}
	if !maps.Equal(got, want) {
		t.Errorf("gathered %v, want %v", got, want)
	}
}
