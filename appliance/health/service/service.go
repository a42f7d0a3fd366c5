package service

import (
	"fmt"
)

// OnFailure is what happens to a real server that is down.
type OnFailure string

// Failure treatments.
const (
	// Remove (the default) takes the real server out of the virtual service.
	Remove OnFailure = "remove"
	// Quiesce keeps it with weight 0: no new connections, established ones stay
	// (keepalived's inhibit_on_failure).
	Quiesce OnFailure = "quiesce"
)

// QuorumAction is what losing quorum does to VRRP.
type QuorumAction string

// Quorum actions.
const (
	QuorumNone     QuorumAction = ""         // nothing (sorry server only)
	QuorumPriority QuorumAction = "priority" // add PriorityDelta to the VRRP priority
	QuorumFault    QuorumAction = "fault"    // put the VRRP instance into FAULT
)

// Spec is the service-level configuration.
type Spec struct {
	// Quorum is the sum of weights of up real servers the service needs (default
	// 1, keepalived's default).
	Quorum int
	// Hysteresis: quorum is gained at >= Quorum+Hysteresis and lost below
	// Quorum-Hysteresis (and always at 0).
	Hysteresis int
	// Sorry: a sorry server is configured. It is active while quorum is lost or no
	// real server is up, and then the remaining real servers take their on_failure
	// treatment (keepalived: "remove remaining alive real servers").
	Sorry         bool
	Action        QuorumAction
	PriorityDelta int // for QuorumPriority, usually negative
}

// Member is one real server as the service sees it.
type Member struct {
	ID         string
	Weight     int  // configured weight
	Checked    bool // false: no health check, always up
	Up         bool // the check's verdict (ignored when !Checked)
	Dynamic    int  // misc_dynamic weight, used when HasDynamic
	HasDynamic bool
	OnFailure  OnFailure
}

// Desired is what the kernel should hold for one real server.
type Desired struct {
	ID      string
	Present bool // in the IPVS service at all
	Weight  int  // when present
	Up      bool // counted as up
}

// State is what Evaluate remembers between calls.
type State struct {
	Known    bool // false before the first evaluation
	QuorumUp bool
	Sorry    bool
}

// Event is a service-level change, for logs and the event list.
type Event struct {
	Kind string // "quorum-lost", "quorum-gained", "sorry-on", "sorry-off"
	Text string
}

// Outcome is the result of one evaluation.
type Outcome struct {
	Members       []Desired // in input order
	UpCount       int
	UpWeight      int // sum of effective weights of up real servers
	QuorumUp      bool
	Sorry         bool // the sorry server should be present (Spec.Sorry only)
	PriorityDelta int  // to add to the VRRP priority (QuorumPriority while lost)
	Fault         bool // QuorumFault while lost
	State         State
	Events        []Event
}

// Evaluate computes the desired state of a service from its members' health and
// the previous State.
func Evaluate(spec Spec, prev State, members []Member) Outcome {
	quorum := spec.Quorum
	if quorum <= 0 {
		quorum = 1
	}
	var out Outcome
	weights := make([]int, len(members))
	up := make([]bool, len(members))
	for i, m := range members {
		up[i] = !m.Checked || m.Up
		weights[i] = m.Weight
		if m.HasDynamic {
			weights[i] = m.Dynamic
		}
		if up[i] {
			out.UpCount++
			out.UpWeight += weights[i]
		}
	}

	// Quorum with hysteresis (keepalived's update_quorum_state).
	switch {
	case !prev.Known:
		out.QuorumUp = out.UpWeight > 0 && out.UpWeight >= quorum
	case !prev.QuorumUp:
		out.QuorumUp = out.UpWeight > 0 && out.UpWeight >= quorum+spec.Hysteresis
	default:
		out.QuorumUp = out.UpWeight > 0 && out.UpWeight >= quorum-spec.Hysteresis
	}
	out.State = State{Known: true, QuorumUp: out.QuorumUp}
	if prev.Known && prev.QuorumUp != out.QuorumUp {
		if out.QuorumUp {
			out.Events = append(out.Events, Event{"quorum-gained", fmt.Sprintf("quorum gained: up weight %d >= %d (quorum %d + hysteresis %d)", out.UpWeight, quorum+spec.Hysteresis, quorum, spec.Hysteresis)})
		} else {
			out.Events = append(out.Events, Event{"quorum-lost", fmt.Sprintf("quorum lost: up weight %d < %d (quorum %d - hysteresis %d)", out.UpWeight, quorum-spec.Hysteresis, quorum, spec.Hysteresis)})
		}
	}

	// UpCount 0 means UpWeight 0, so quorum is lost whenever no real server is up.
	if !out.QuorumUp {
		switch spec.Action {
		case QuorumPriority:
			out.PriorityDelta = spec.PriorityDelta
		case QuorumFault:
			out.Fault = true
		}
	}
	out.Sorry = spec.Sorry && !out.QuorumUp
	out.State.Sorry = out.Sorry
	if out.Sorry != prev.Sorry {
		verb := "off"
		if out.Sorry {
			verb = "on"
		}
		out.Events = append(out.Events, Event{"sorry-" + verb, fmt.Sprintf("sorry server %s: %d of %d real servers up, up weight %d", verb, out.UpCount, len(members), out.UpWeight)})
	}

	out.Members = make([]Desired, len(members))
	for i, m := range members {
		d := Desired{ID: m.ID, Up: up[i]}
		if up[i] && !out.Sorry {
			d.Present, d.Weight = true, weights[i]
		} else if m.OnFailure == Quiesce {
			d.Present, d.Weight = true, 0
		}
		out.Members[i] = d
	}
	return out
}
