package events

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one published event.
type Event struct {
	// ID is "EPOCH-SEQ": EPOCH names this hub (one daemon run), SEQ counts from 1.
	ID   string          `json:"id"`
	Seq  uint64          `json:"-"`
	Type string          `json:"type"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data"`
}

// Hub fans events out to subscribers and remembers the last few. Safe for concurrent
// use.
type Hub struct {
	epoch  string
	now    func() time.Time
	bufLen int

	mu   sync.Mutex
	seq  uint64
	ring []Event // oldest first, at most cap(ring)
	subs map[*Subscription]struct{}
}

// Subscription receives events on C until it is closed, by Close or by the hub when the
// subscriber fell behind (then Dropped reports true).
type Subscription struct {
	C       <-chan Event
	c       chan Event
	h       *Hub
	dropped bool
}

// NewHub returns a hub remembering size events. epoch must differ between daemon runs
// (e.g. derived from the start time) so that IDs from an earlier run are recognised.
func NewHub(size int, epoch string, now func() time.Time) *Hub {
	if size <= 0 {
		size = 256
	}
	if now == nil {
		now = time.Now
	}
	return &Hub{epoch: epoch, now: now, bufLen: 64, ring: make([]Event, 0, size), subs: map[*Subscription]struct{}{}}
}

// Epoch returns the hub's epoch.
func (h *Hub) Epoch() string { return h.epoch }

// Publish sends an event with v (JSON-encoded) to every subscriber.
func (h *Hub) Publish(typ string, v any) (Event, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return Event{}, fmt.Errorf("events: encode %s: %w", typ, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	ev := Event{ID: fmt.Sprintf("%s-%d", h.epoch, h.seq), Seq: h.seq, Type: typ, Time: h.now().UTC(), Data: data}
	if len(h.ring) == cap(h.ring) {
		copy(h.ring, h.ring[1:])
		h.ring = h.ring[:len(h.ring)-1]
	}
	h.ring = append(h.ring, ev)
	for s := range h.subs {
		select {
		case s.c <- ev:
		default: // too slow: drop it; it reconnects with Last-Event-ID
			s.dropped = true
			delete(h.subs, s)
			close(s.c)
		}
	}
	return ev, nil
}

// Subscribe starts a subscription. With lastID "" nothing is replayed. Otherwise the
// events after lastID are returned for replay; when they are not all still in the ring
// (or lastID is from another run or unknown) reset is true and replay holds every
// remembered event.
func (h *Hub) Subscribe(lastID string) (replay []Event, reset bool, s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := make(chan Event, h.bufLen)
	s = &Subscription{C: c, c: c, h: h}
	h.subs[s] = struct{}{}
	if lastID == "" {
		return nil, false, s
	}
	seq, ok := h.parse(lastID)
	oldest := h.seq + 1
	if len(h.ring) > 0 {
		oldest = h.ring[0].Seq
	}
	if !ok || seq > h.seq || seq+1 < oldest {
		return append([]Event(nil), h.ring...), true, s
	}
	for _, ev := range h.ring {
		if ev.Seq > seq {
			replay = append(replay, ev)
		}
	}
	return replay, false, s
}

func (h *Hub) parse(id string) (uint64, bool) {
	epoch, seq, ok := strings.Cut(id, "-")
	if !ok || epoch != h.epoch {
		return 0, false
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	return n, err == nil
}

// Close ends the subscription (idempotent).
func (s *Subscription) Close() {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if _, ok := s.h.subs[s]; ok {
		delete(s.h.subs, s)
		close(s.c)
	}
}

// Dropped reports whether the hub ended the subscription because it fell behind.
func (s *Subscription) Dropped() bool {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.dropped
}

// Subscribers is the number of open subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
