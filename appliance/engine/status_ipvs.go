package engine

import (
	"slices"

	"github.com/lvsbox/lvsbox/appliance/events"
)

// Publisher receives engine events (the API's event hub).
type Publisher interface {
	Publish(typ string, v any) (events.Event, error)
}

// DriftEvent is the "drift" event: what a pass repaired.
type DriftEvent struct {
	Revision uint64   `json:"revision"`
	Writes   int      `json:"writes"`
	Repaired []string `json:"repaired"`
}

func (e *Engine) publishDrift(res PassResult, ops []string) {
	if e.o.Events == nil {
		return
	}
	e.o.Events.Publish("drift", DriftEvent{Revision: res.Revision, Writes: res.Writes, Repaired: slices.Clone(ops)})
}

// extendStatus adds the IPVS globals, problems, drains, NIC and sysctl state of the
// pass to st.
func (e *Engine) extendStatus(st *Status, res PassResult) {
	st.IPVS.Globals = e.globals
	st.IPVS.Problems = slices.Clone(res.Problems)
	if res.IPVSUp {
		t := e.o.Now().UTC()
		st.IPVS.StatsTime = &t
	}
	for i := range st.IPVS.Services {
		s := &st.IPVS.Services[i]
		drains := e.draining[s.key]
		for j := range s.Destinations {
			rs := &s.Destinations[j]
			for dk, dl := range drains {
				if dk.Addr.String() == rs.Address && dk.Port == rs.Port {
					t := dl.UTC()
					rs.DrainingUntil = &t
				}
			}
		}
	}
	st.NICs = slices.Clone(e.nics)
	st.Sysctls = slices.Clone(e.sysStat)
}
