package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/events"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fakePlanner struct {
	changes []string
	err     error
	got     []config.Config
}

func (p *fakePlanner) Plan(_ context.Context, cfg config.Config) ([]string, error) {
	p.got = append(p.got, cfg)
	return p.changes, p.err
}

type env struct {
	t       *testing.T
	srv     *Server
	store   *fakeStore
	clock   *testClock
	planner *fakePlanner
	token   string // olga's API token
	tls     http.Handler
}

var cheapKDF = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, clock: &testClock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}, planner: &fakePlanner{}}
	e.store = newFakeStore(e.clock.Now)
	hash := func(pw string) string {
		h, err := auth.HashPassword(pw, nil, cheapKDF)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tok, th, err := auth.NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	e.token = tok
	users := []auth.User{
		{Name: "alice", Role: auth.RoleAdmin, PasswordHash: hash("alice-pw")},
		{Name: "olga", Role: auth.RoleOperator, PasswordHash: hash("olga-pw"), Tokens: []auth.Token{{Name: "ci", Hash: th}}},
		{Name: "vic", Role: auth.RoleViewer, PasswordHash: hash("vic-pw")},
	}
	e.srv = server(readyStatus())
	e.srv.Store = e.store
	e.srv.Planner = e.planner
	e.srv.Now = e.clock.Now
	e.srv.Events = events.NewHub(16, "t1", e.clock.Now)
	e.srv.Auth = auth.New(auth.Options{Users: func() ([]auth.User, error) { return users, nil }, Now: e.clock.Now})
	e.srv.Log = discardLog()
	e.tls = e.srv.TLSHandler()
	return e
}

func basicAuth(u, p string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
}

var creds = map[auth.Role]string{
	auth.RoleAdmin:    basicAuth("alice", "alice-pw"),
	auth.RoleOperator: basicAuth("olga", "olga-pw"),
	auth.RoleViewer:   basicAuth("vic", "vic-pw"),
}

type response struct {
	code int
	hdr  http.Header
	body []byte
}

func (r response) errBody(t *testing.T) ErrorBody {
	t.Helper()
	var eb ErrorBody
	if err := json.Unmarshal(r.body, &eb); err != nil || eb.Error == "" || eb.Details == nil {
		t.Fatalf("not an error body (%v): %s", err, r.body)
	}
	return eb
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, r.body)
	}
}

// do sends a request to the HTTPS handler (in process) from source 192.0.2.1.
func (e *env) do(method, path, authz string, body any) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			data, err := json.Marshal(b)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(data)
		}
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "192.0.2.1:40000"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	e.tls.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// apply commits cfg (JSON) as admin and returns the new revision number.
func (e *env) apply(base uint64, cfg string) uint64 {
	e.t.Helper()
	r := e.do("PUT", "/api/v1/config", creds[auth.RoleAdmin], map[string]any{"base_revision": base, "comment": "test", "config": json.RawMessage(cfg)})
	if r.code != 200 {
		e.t.Fatalf("apply: %d %s", r.code, r.body)
	}
	var cr CommitResponse
	r.decode(e.t, &cr)
	return cr.Revision.Number
}

// serveSocket serves the socket handler on a Unix socket in a temp dir and returns a
// client for it.
func (e *env) serveSocket() *http.Client {
	e.t.Helper()
	path := filepath.Join(e.t.TempDir(), "api.sock")
	ln, err := ListenUnix(path)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.RunSocket(ctx, ln) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Error(err)
		}
	})
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
}

const webCfg = `{"virtual_services":[{"name":"web","address":"192.0.2.100","port":80,"forwarding":"dr",
  "real_servers":[{"address":"192.0.2.11"},{"address":"192.0.2.12","weight":2}]}]}`

const web2Cfg = `{"virtual_services":[{"name":"web","address":"192.0.2.100","port":80,"forwarding":"dr",
  "real_servers":[{"address":"192.0.2.11","weight":5}]}]}`

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func newRequest(method, path string) *http.Request { return httptest.NewRequest(method, path, nil) }
