package healthd

import (
	"time"

	"github.com/lvsbox/lvsbox/appliance/health/scheduler"
	"github.com/lvsbox/lvsbox/appliance/health/service"
)

// Event is the data of a "health" event on /api/v1/events.
type Event struct {
	// Kind is "up" or "down" (a real server's check), or "quorum-lost",
	// "quorum-gained", "sorry-on", "sorry-off" (a service).
	Kind       string    `json:"kind"`
	Service    string    `json:"service"`
	RealServer string    `json:"real_server,omitempty"` // up/down only
	Type       string    `json:"type,omitempty"`        // check type, up/down only
	Target     string    `json:"target,omitempty"`      // what was probed, up/down only
	Reason     string    `json:"reason"`                // e.g. "2 failed checks, last: HTTP 503 from 10.0.0.11:80 in 12 ms"
	At         time.Time `json:"at"`
}

// observe turns a probe's transition into one event per real server sharing it
// (scheduler.Observer; the scheduler logs the transition itself).
func (m *Manager) observe(e scheduler.Event) {
	if e.Transition == nil || m.o.Events == nil {
		return
	}
	kind := "down"
	if e.Transition.Up {
		kind = "up"
	}
	for _, id := range e.Subscribers {
		svc, server := parseID(id)
		m.publish(Event{Kind: kind, Service: svc, RealServer: server, Type: string(e.Type), Target: e.Target.String(),
			Reason: e.Transition.Reason, At: e.Transition.At.UTC()})
	}
}

// serviceEvent logs and publishes a service-level change.
func (m *Manager) serviceEvent(svc string, ev service.Event) {
	level := m.o.Log.Info
	if ev.Kind == "quorum-lost" || ev.Kind == "sorry-on" {
		level = m.o.Log.Warn
	}
	level("health: "+ev.Text, "service", svc, "event", ev.Kind)
	m.publish(Event{Kind: ev.Kind, Service: svc, Reason: ev.Text, At: m.now().UTC()})
}

func (m *Manager) publish(ev Event) {
	if m.o.Events == nil {
		return
	}
	if _, err := m.o.Events.Publish(EventType, ev); err != nil {
		m.o.Log.Warn("health: event not published", "error", err)
	}
}

func (m *Manager) now() time.Time {
	if c := m.o.Scheduler.Clock; c != nil {
		return c.Now()
	}
	return time.Now()
}
