package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/engine"
)

type mutableStatus struct {
	mu sync.Mutex
	st engine.Status
}

func (m *mutableStatus) Status() engine.Status { m.mu.Lock(); defer m.mu.Unlock(); return m.st }
func (m *mutableStatus) set(f func(*engine.Status)) {
	m.mu.Lock()
	f(&m.st)
	m.mu.Unlock()
}

type sseEvent struct{ id, typ, data string }

type sseReader struct {
	t    *testing.T
	sc   *bufio.Scanner
	resp *http.Response
	// comments seen so far
	comments []string
}

func openEvents(t *testing.T, c *http.Client, lastID string) *sseReader {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://lvsbox/api/v1/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %v", resp.StatusCode, resp.Header)
	}
	return &sseReader{t: t, sc: bufio.NewScanner(resp.Body), resp: resp}
}

// next returns the next event (skipping comments, which are recorded).
func (r *sseReader) next() sseEvent {
	r.t.Helper()
	type result struct {
		ev  sseEvent
		err string
	}
	ch := make(chan result, 1)
	go func() {
		var ev sseEvent
		for r.sc.Scan() {
			line := r.sc.Text()
			switch {
			case line == "":
				if ev.typ != "" {
					ch <- result{ev: ev}
					return
				}
			case strings.HasPrefix(line, ":"):
				r.comments = append(r.comments, line)
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
		ch <- result{err: "stream ended"}
	}()
	select {
	case res := <-ch:
		if res.err != "" {
			r.t.Fatal(res.err)
		}
		return res.ev
	case <-time.After(10 * time.Second):
		r.t.Fatal("no event within 10s")
	}
	return sseEvent{}
}

func TestEventsStreamCommitsStateAndReplay(t *testing.T) {
	e := newEnv(t)
	st := &mutableStatus{st: readyStatus().Status()}
	e.srv.Status = st
	e.srv.StatusEvery = 10 * time.Millisecond
	e.srv.Heartbeat = 20 * time.Millisecond
	var committed []uint64
	var mu sync.Mutex
	e.srv.OnCommit = func(ri RevisionInfo) { mu.Lock(); committed = append(committed, ri.Number); mu.Unlock() }
	c := e.serveSocket()
	ctx, cancel := context.WithCancel(context.Background())
	pumpDone := make(chan struct{})
	go func() { e.srv.PublishEvents(ctx); close(pumpDone) }()
	t.Cleanup(func() { cancel(); <-pumpDone })
	for deadline := time.Now().Add(5 * time.Second); ; {
		e.store.mu.Lock()
		n := len(e.store.watchers)
		e.store.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("PublishEvents does not watch the store")
		}
		time.Sleep(time.Millisecond)
	}

	stream := openEvents(t, c, "")
	e.apply(0, webCfg)
	ev := stream.next()
	var ri RevisionInfo
	if err := json.Unmarshal([]byte(ev.data), &ri); err != nil || ev.typ != "config" || ri.Number != 1 || ri.User != "alice" || !strings.HasPrefix(ev.id, "t1-") {
		t.Fatalf("first event %+v (%v)", ev, err)
	}
	mu.Lock()
	if len(committed) != 1 || committed[0] != 1 {
		t.Fatalf("OnCommit saw %v", committed)
	}
	mu.Unlock()

	// A state change of the engine becomes a "state" event.
	st.set(func(s *engine.Status) { s.Ready = false; s.IPVS.Error = "ipvs: IPVS is not available" })
	ev = stream.next()
	var se StateEvent
	if err := json.Unmarshal([]byte(ev.data), &se); err != nil || ev.typ != "state" || se.Ready || se.IPVSError == "" {
		t.Fatalf("state event %+v", ev)
	}
	firstID := ev.id

	// A confirm is an event too.
	r := e.do("PUT", "/api/v1/config", admin, map[string]any{"base_revision": 1, "confirm_within": "1m", "config": json.RawMessage(web2Cfg)})
	if r.code != 200 {
		t.Fatal(r.code)
	}
	if ev := stream.next(); ev.typ != "config" {
		t.Fatalf("want config event, got %+v", ev)
	}
	if r := e.do("POST", "/api/v1/revisions/2/confirm", creds[auth.RoleOperator], "{}"); r.code != 200 {
		t.Fatal(r.code)
	}
	if ev := stream.next(); ev.typ != "confirm" || !strings.Contains(ev.data, `"revision":2`) || !strings.Contains(ev.data, `"user":"olga"`) {
		t.Fatalf("confirm event %+v", ev)
	}

	// Reconnecting with the state event's ID replays what came after it.
	again := openEvents(t, c, firstID)
	if ev := again.next(); ev.typ != "config" || !strings.Contains(ev.data, `"number":2`) {
		t.Fatalf("replay 1: %+v", ev)
	}
	if ev := again.next(); ev.typ != "confirm" {
		t.Fatalf("replay 2: %+v", ev)
	}
	// An ID from an earlier daemon run gets a reset and everything remembered.
	old := openEvents(t, c, "t0-99")
	if ev := old.next(); ev.typ != "reset" {
		t.Fatalf("want reset, got %+v", ev)
	}
	if ev := old.next(); ev.typ != "config" || !strings.Contains(ev.data, `"number":1`) {
		t.Fatalf("after reset: %+v", ev)
	}
	// Heartbeats keep idle streams alive.
	again.waitComment(": heartbeat")
}

// waitComment reads until a comment line with prefix arrives.
func (r *sseReader) waitComment(prefix string) {
	r.t.Helper()
	done := make(chan bool, 1)
	go func() {
		for r.sc.Scan() {
			if strings.HasPrefix(r.sc.Text(), prefix) {
				done <- true
				return
			}
		}
		done <- false
	}()
	select {
	case ok := <-done:
		if !ok {
			r.t.Fatal("stream ended before " + prefix)
		}
	case <-time.After(10 * time.Second):
		r.t.Fatal("no " + prefix + " within 10s")
	}
}

func TestEventsNeedAuth(t *testing.T) {
	e := newEnv(t)
	if r := e.do("GET", "/api/v1/events", "", nil); r.code != 401 {
		t.Fatalf("events without credentials: %d", r.code)
	}
	if r := e.do("GET", "/api/v1/events", basicAuth("vic", "nope"), nil); r.code != 401 {
		t.Fatalf("events with a bad password: %d", r.code)
	}
}
