package events

import (
	"testing"
	"time"
)

func ids(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func eq(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPublishSubscribeAndReplay(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	h := NewHub(3, "e1", func() time.Time { return now })
	_, _, live := h.Subscribe("")
	for i := 1; i <= 5; i++ {
		if _, err := h.Publish("config", map[string]int{"number": i}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ {
		ev := <-live.C
		if ev.Seq != uint64(i) || ev.Type != "config" || !ev.Time.Equal(now) {
			t.Fatalf("event %d = %+v", i, ev)
		}
	}
	if string(h.ring[2].Data) != `{"number":5}` {
		t.Fatalf("data %s", h.ring[2].Data)
	}

	cases := []struct {
		last  string
		want  []string
		reset bool
	}{
		{"e1-4", []string{"e1-5"}, false},
		{"e1-2", []string{"e1-3", "e1-4", "e1-5"}, false},
		{"e1-5", nil, false},
		{"e1-1", []string{"e1-3", "e1-4", "e1-5"}, true}, // e1-2 fell out of the ring
		{"e0-4", []string{"e1-3", "e1-4", "e1-5"}, true}, // an earlier daemon run
		{"e1-9", []string{"e1-3", "e1-4", "e1-5"}, true}, // from the future
		{"junk", []string{"e1-3", "e1-4", "e1-5"}, true},
	}
	for _, c := range cases {
		replay, reset, s := h.Subscribe(c.last)
		if !eq(ids(replay), c.want) || reset != c.reset {
			t.Errorf("Subscribe(%q) = %v reset %v, want %v reset %v", c.last, ids(replay), reset, c.want, c.reset)
		}
		s.Close()
		s.Close()
	}
	if h.Subscribers() != 1 {
		t.Fatalf("subscribers = %d", h.Subscribers())
	}
}

func TestSlowSubscriberIsDropped(t *testing.T) {
	h := NewHub(8, "e", nil)
	_, _, slow := h.Subscribe("")
	_, _, fast := h.Subscribe("")
	for i := 0; i < 200; i++ {
		h.Publish("state", i)
		if ev := <-fast.C; ev.Seq != uint64(i+1) {
			t.Fatalf("fast subscriber got %+v", ev)
		}
	}
	if !slow.Dropped() || h.Subscribers() != 1 {
		t.Fatalf("slow subscriber kept: dropped=%v subs=%d", slow.Dropped(), h.Subscribers())
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != 64 {
		t.Fatalf("slow subscriber got %d buffered events", n)
	}
	fast.Close()
	if fast.Dropped() {
		t.Fatal("closed subscription reported as dropped")
	}
	if _, err := h.Publish("bad", func() {}); err == nil {
		t.Fatal("unencodable event published")
	}
}
