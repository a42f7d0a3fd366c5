package healthd

import (
	"slices"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/health/metrics"
	"github.com/lvsbox/lvsbox/appliance/health/scheduler"
)

// ServiceHealth is a virtual service's health as VRRP tracking
// (vrrp_instances[].track_services) consumes it.
type ServiceHealth struct {
	Up        bool // quorum held (with hysteresis); a service without real servers up is down
	UpWeight  int  // sum of the effective weights of up real servers
	UpServers int
	Servers   int // enabled and drained real servers
	Sorry     bool
}

// Track applies a track_services weight to h (keepalived semantics): weight 0
// means FAULT while the service is down; a positive weight is added to the
// priority while it is up, a negative one while it is down.
func (h ServiceHealth) Track(weight int) (delta int, fault bool) {
	switch {
	case weight == 0:
		return 0, !h.Up
	case weight > 0 && h.Up, weight < 0 && !h.Up:
		return weight, false
	}
	return 0, false
}

// ServiceHealth returns the health of the named service of the applied
// configuration (false: no such service, or no configuration applied yet).
func (m *Manager) ServiceHealth(name string) (ServiceHealth, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.outcomes[name]
	return o.health, ok
}

// Track is ServiceHealth(name).Track(weight); ok is false for an unknown service.
func (m *Manager) Track(name string, weight int) (delta int, fault, ok bool) {
	h, ok := m.ServiceHealth(name)
	if !ok {
		return 0, false, false
	}
	delta, fault = h.Track(weight)
	return delta, fault, true
}

// Watch returns a channel that receives (coalesced) whenever any service's
// ServiceHealth changed, and a function that ends the watch.
func (m *Manager) Watch() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	m.mu.Lock()
	m.watchers[c] = struct{}{}
	m.mu.Unlock()
	return c, func() {
		m.mu.Lock()
		delete(m.watchers, c)
		m.mu.Unlock()
	}
}

func (m *Manager) notify() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := range m.watchers {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// serviceMetrics feeds the collector's per-service gauges; the VRRP delta and
// fault are summed over the instances tracking the service.
func (m *Manager) serviceMetrics() []metrics.ServiceStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]metrics.ServiceStatus, 0, len(m.model.services))
	for _, sm := range m.model.services {
		o, ok := m.outcomes[sm.name]
		if !ok {
			continue
		}
		st := metrics.ServiceStatus{Service: sm.name, QuorumUp: o.QuorumUp, UpWeight: o.UpWeight, UpCount: o.UpCount, Sorry: o.Sorry}
		for _, w := range sm.trackDelta {
			d, f := o.health.Track(w)
			st.PriorityDelta += d
			st.Fault = st.Fault || f
		}
		out = append(out, st)
	}
	return out
}

// Status is the health part of /api/v1/status.
type Status struct {
	Probes             int             `json:"probes"`               // distinct (target, check) probes running
	CheckedRealServers int             `json:"checked_real_servers"` // real servers with a check (sharing probes)
	Error              string          `json:"error,omitempty"`      // the checks could not be updated
	Services           []ServiceStatus `json:"services"`
}

// ServiceStatus is one virtual service's health.
type ServiceStatus struct {
	Name          string             `json:"name"`
	QuorumUp      bool               `json:"quorum_up"`
	MinimumWeight int                `json:"minimum_weight"`
	Hysteresis    int                `json:"hysteresis"`
	UpWeight      int                `json:"up_weight"`
	UpServers     int                `json:"up_servers"`
	Servers       int                `json:"servers"`
	Sorry         *SorryStatus       `json:"sorry_server,omitempty"`
	VRRP          *VRRPStatus        `json:"vrrp,omitempty"` // when VRRP instances track it
	RealServers   []RealServerStatus `json:"real_servers"`
}

// SorryStatus is a service's sorry server.
type SorryStatus struct {
	Address string `json:"address"`
	Port    uint16 `json:"port"`
	Active  bool   `json:"active"`
}

// VRRPStatus is what the service asks of the VRRP instances tracking it, summed.
type VRRPStatus struct {
	PriorityDelta int  `json:"priority_delta"`
	Fault         bool `json:"fault"`
}

// RealServerStatus is one real server's health and what it means for the table.
type RealServerStatus struct {
	Address string `json:"address"`
	Port    uint16 `json:"port"`
	// State is up, down or pending (the check's), unchecked (no check: always up),
	// error (the check cannot run: down) or disabled (admin_state).
	State      string `json:"state"`
	AdminState string `json:"admin_state"`
	InTable    bool   `json:"in_table"` // the engine keeps it in the IPVS service
	Weight     int    `json:"weight"`   // its weight there
	OnFailure  string `json:"on_failure,omitempty"`
	Error      string `json:"error,omitempty"`
	// Check is the check's state: last result, latency, time in state, history,
	// flaps (absent when unchecked, disabled or in error).
	Check *scheduler.ServerView `json:"check,omitempty"`
}

// Status returns the health of every service of the applied configuration.
func (m *Manager) Status() Status {
	snap := m.sched.Snapshot()
	views := make(map[string]scheduler.ServerView, len(snap.Subscriptions))
	for _, s := range snap.Subscriptions {
		views[s.ID] = s.View()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Status{Probes: len(snap.Probes), CheckedRealServers: m.model.checked, Error: m.applyErr, Services: []ServiceStatus{}}
	for _, sm := range m.model.services {
		o := m.outcomes[sm.name]
		ss := ServiceStatus{Name: sm.name, QuorumUp: o.QuorumUp, MinimumWeight: sm.spec.Quorum, Hysteresis: sm.spec.Hysteresis,
			UpWeight: o.UpWeight, UpServers: o.UpCount, Servers: len(sm.servers), RealServers: []RealServerStatus{}}
		if sm.sorry != nil {
			ss.Sorry = &SorryStatus{Address: sm.sorry.Addr().String(), Port: sm.sorry.Port(), Active: o.Sorry}
		}
		if len(sm.trackDelta) > 0 {
			v := &VRRPStatus{}
			for _, w := range sm.trackDelta {
				d, f := o.health.Track(w)
				v.PriorityDelta += d
				v.Fault = v.Fault || f
			}
			ss.VRRP = v
		}
		for i, mb := range sm.servers {
			rs := RealServerStatus{Address: mb.server.Addr().String(), Port: mb.server.Port(), AdminState: "enabled", Error: mb.err}
			if mb.drain {
				rs.AdminState = "drain"
			}
			if i < len(o.Members) {
				rs.InTable, rs.Weight = o.Members[i].Present, o.Members[i].Weight
			}
			switch {
			case mb.id == "":
				rs.State = "unchecked"
			case mb.err != "":
				rs.State = "error"
				rs.OnFailure = string(mb.onFailure)
			default:
				rs.OnFailure = string(mb.onFailure)
				if v, ok := views[mb.id]; ok {
					rs.State = v.State
					rs.Check = &v
				} else {
					rs.State = "pending"
				}
			}
			ss.RealServers = append(ss.RealServers, rs)
		}
		for _, d := range sm.disabled {
			ss.RealServers = append(ss.RealServers, RealServerStatus{Address: d.Addr().String(), Port: d.Port(), State: "disabled", AdminState: "disabled"})
		}
		st.Services = append(st.Services, ss)
	}
	slices.SortStableFunc(st.Services, func(a, b ServiceStatus) int { return strings.Compare(a.Name, b.Name) })
	return st
}
