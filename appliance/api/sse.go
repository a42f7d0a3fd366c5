package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"time"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/events"
)

// StateEvent is the data of a "state" event: what the engine reports, sent whenever it
// changes.
type StateEvent struct {
	Ready           bool     `json:"ready"`
	AppliedRevision uint64   `json:"applied_revision"`
	IPVSAvailable   bool     `json:"ipvs_available"`
	IPVSError       string   `json:"ipvs_error,omitempty"`
	Services        int      `json:"services"`
	RealServers     int      `json:"real_servers"`
	Errors          []string `json:"errors"`
}

func (s *Server) state() StateEvent {
	st := s.Status.Status()
	ev := StateEvent{Ready: st.Ready, IPVSAvailable: st.IPVS.Available, IPVSError: st.IPVS.Error,
		Services: len(st.IPVS.Services), Errors: []string{}}
	if st.Revision != nil {
		ev.AppliedRevision = st.Revision.Number
	}
	for _, svc := range st.IPVS.Services {
		ev.RealServers += len(svc.Destinations)
	}
	if st.LastPass != nil {
		ev.Errors = slices.Clone(st.LastPass.Errors)
		slices.Sort(ev.Errors)
	}
	return ev
}

// PublishEvents feeds the event hub (if any) until ctx is done: a "config" event for every
// committed revision (from Store.Watch, so automatic rollbacks are included; OnCommit
// runs first; re-announcements of confirmed revisions are skipped) and a "state" event whenever the engine's state changes.
func (s *Server) PublishEvents(ctx context.Context) {
	publish := func(typ string, v any) {
		if s.Events != nil {
			s.Events.Publish(typ, v)
		}
	}
	var commits <-chan RevisionInfo
	if s.Store != nil {
		c, cancel := s.Store.Watch()
		defer cancel()
		commits = c
	}
	every := s.StatusEvery
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	last := s.state()
	for {
		select {
		case <-ctx.Done():
			return
		case info, ok := <-commits:
			if !ok {
				commits = nil
				continue
			}
			if info.Confirmed {
				continue // the store re-announces a confirmed revision; confirm publishes its own event
			}
			if s.OnCommit != nil {
				s.OnCommit(info)
			}
			publish("config", info)
		case <-t.C:
			if st := s.state(); !reflect.DeepEqual(st, last) {
				last = st
				publish("state", st)
			}
		}
	}
}

// events streams the hub as Server-Sent Events: `id`, `event` and one `data` line per
// event, a heartbeat comment every Heartbeat, replay after Last-Event-ID.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	if s.Events == nil {
		s.fail(w, r, newError(http.StatusServiceUnavailable, "no event hub"))
		return
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last_event_id")
	}
	replay, reset, sub := s.Events.Subscribe(last)
	defer sub.Close()

	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": lvsbox events (epoch %s)\nretry: 3000\n\n", s.Events.Epoch())
	if reset {
		data, _ := json.Marshal(map[string]string{"epoch": s.Events.Epoch(), "last_event_id": last})
		fmt.Fprintf(w, "event: reset\ndata: %s\n\n", data)
	}
	for _, ev := range replay {
		writeEvent(w, ev)
	}
	if err := rc.Flush(); err != nil {
		return
	}
	every := s.Heartbeat
	if every <= 0 {
		every = 15 * time.Second
	}
	hb := time.NewTicker(every)
	defer hb.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-sub.C:
			if !ok {
				return // dropped for being slow: the client reconnects and replays
			}
			writeEvent(w, ev)
		case <-hb.C:
			fmt.Fprint(w, ": heartbeat\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func writeEvent(w http.ResponseWriter, ev events.Event) {
	fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, ev.Data)
}
