package scheduler

import (
	"time"

	"github.com/lvsbox/lvsbox/appliance/health/state"
)

// ServerView is one real server's check as the API and `lvsbox status` render it
// (JSON field names are the API's).
type ServerView struct {
	ID             string           `json:"id"`
	Service        string           `json:"service"`
	Server         string           `json:"real_server"`
	Type           string           `json:"type"`
	Target         string           `json:"target"`
	State          string           `json:"state"` // up, down or pending
	Since          time.Time        `json:"since"`
	InStateSeconds float64          `json:"in_state_seconds"`
	Passes         int              `json:"passes"` // towards rise, while down
	Fails          int              `json:"fails"`  // towards fall, while up
	LastCheck      *time.Time       `json:"last_check,omitempty"`
	LastOK         bool             `json:"last_ok"`
	LastResult     string           `json:"last_result,omitempty"` // e.g. "HTTP 503 from 10.0.0.11:80 in 12 ms"
	LatencyMS      float64          `json:"latency_ms"`
	Weight         *int             `json:"dynamic_weight,omitempty"`
	Checks         uint64           `json:"checks"`
	Failed         uint64           `json:"failed"`
	Transitions    uint64           `json:"transitions"`
	Flaps          int              `json:"flaps"` // transitions in the last 10 minutes
	SharedBy       int              `json:"shared_by"`
	History        []TransitionView `json:"history"`
}

// TransitionView is one entry of a ServerView's history.
type TransitionView struct {
	At     time.Time `json:"at"`
	State  string    `json:"state"`
	Reason string    `json:"reason"`
}

// View renders s.
func (s SubscriptionStatus) View() ServerView {
	v := ServerView{
		ID: s.ID, Service: s.Service, Server: s.Server.String(),
		Type: string(s.Type), Target: s.Target.String(),
		State: s.State(), Since: s.Since, InStateSeconds: s.InState.Seconds(),
		Passes: s.Passes, Fails: s.Fails,
		LastOK: s.Last.OK, LastResult: s.Last.Text,
		LatencyMS: float64(s.Last.Latency.Microseconds()) / 1000,
		Checks:    s.Checks, Failed: s.Failed, Transitions: s.Transitions, Flaps: s.Flaps,
		SharedBy: s.Shared, History: make([]TransitionView, 0, len(s.History)),
	}
	if !s.LastAt.IsZero() {
		at := s.LastAt
		v.LastCheck = &at
	}
	if s.HasWeight {
		w := s.Weight
		v.Weight = &w
	}
	for _, tr := range s.History {
		v.History = append(v.History, transitionView(tr))
	}
	return v
}

func transitionView(tr state.Transition) TransitionView {
	st := "down"
	if tr.Up {
		st = "up"
	}
	return TransitionView{At: tr.At, State: st, Reason: tr.Reason}
}

// Views renders every subscription of the snapshot, in ID order.
func (s Snapshot) Views() []ServerView {
	out := make([]ServerView, len(s.Subscriptions))
	for i, sub := range s.Subscriptions {
		out[i] = sub.View()
	}
	return out
}
