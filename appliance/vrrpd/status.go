package vrrpd

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
)

// Status is the VRRP part of /api/v1/status.
type Status struct {
	Revision  uint64           `json:"revision"` // the configuration revision the units run
	Instances []InstanceStatus `json:"instances"`
	Sockets   []SocketStatus   `json:"sockets"`
	Errors    []string         `json:"errors,omitempty"`   // instances or groups that cannot run
	Warnings  []string         `json:"warnings,omitempty"` // settings that are not honoured
}

// InstanceStatus is node's status of one instance with what the integration
// adds. BasePriority is the configured priority (a live priority change is a
// delta on the running instance); Transitions survive unit restarts.
type InstanceStatus struct {
	node.InstanceStatus
	Unit     string        `json:"unit"`     // instance/<name> or group/<name>
	Restarts int           `json:"restarts"` // times a configuration change restarted the unit
	Tracking []TrackStatus `json:"tracking,omitempty"`
}

// SocketStatus is one unit's socket (every unit has its own sockets).
type SocketStatus struct {
	Unit string `json:"unit"`
	node.SocketStatus
}

// Status returns the status of every running instance, in configuration
// order.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Revision: s.applied, Instances: []InstanceStatus{}, Sockets: []SocketStatus{},
		Errors: slices.Clone(s.errs), Warnings: slices.Clone(s.warns)}
	for _, k := range s.order {
		u := s.byKey[k]
		prio := map[string]uint8{}
		for _, ic := range u.Config.Instances {
			prio[ic.Name] = ic.Priority
		}
		for _, is := range u.mgr.Snapshot() {
			is.BasePriority = prio[is.Name]
			is.Transitions = slices.Clone(s.history[is.Name])
			if is.Transitions == nil {
				is.Transitions = []node.TransitionRecord{}
			}
			st.Instances = append(st.Instances, InstanceStatus{InstanceStatus: is, Unit: k, Restarts: s.restarts[k],
				Tracking: slices.Clone(u.track[is.Name])})
		}
		for _, so := range u.mgr.Sockets() {
			st.Sockets = append(st.Sockets, SocketStatus{Unit: k, SocketStatus: so})
		}
	}
	return st
}

// managers returns the running managers.
func (s *Service) managers() []Manager {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []Manager
	for _, k := range s.order {
		ms = append(ms, s.byKey[k].mgr)
	}
	return ms
}

// collector merges the collectors of every unit: series with the same name
// and labels (a socket shared by units' interfaces, events_dropped_total) are
// summed. base_priority is node's (the priority the unit was started with).
type collector struct{ s *Service }

// Describe sends nothing: the set of units changes at run time (an unchecked
// collector).
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	merged := map[string]*summed{}
	var order []string
	for _, m := range c.s.managers() {
		mc := make(chan prometheus.Metric, 64)
		go func() { m.Collector().Collect(mc); close(mc) }()
		for met := range mc {
			var pb dto.Metric
			if err := met.Write(&pb); err != nil {
				continue
			}
			var key []string
			for _, lp := range pb.Label {
				key = append(key, lp.GetName()+"="+lp.GetValue())
			}
			k := met.Desc().String() + "|" + strings.Join(key, ",")
			v := pb.GetCounter().GetValue() + pb.GetGauge().GetValue()
			if se := merged[k]; se != nil {
				se.v += v
				continue
			}
			merged[k] = &summed{Metric: met, v: v}
			order = append(order, k)
		}
	}
	for _, k := range order {
		ch <- merged[k]
	}
}

// summed is a metric whose value is the sum over units.
type summed struct {
	prometheus.Metric
	v float64
}

func (m *summed) Write(out *dto.Metric) error {
	if err := m.Metric.Write(out); err != nil {
		return err
	}
	v := m.v
	switch {
	case out.Counter != nil:
		out.Counter.Value = &v
	case out.Gauge != nil:
		out.Gauge.Value = &v
	}
	return nil
}
