package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/auth"
)

// TestEveryRouteEnforcesItsRole calls every route with each role and with no
// credentials: below the route's permission is 403, missing credentials are 401.
func TestEveryRouteEnforcesItsRole(t *testing.T) {
	e := newEnv(t)
	e.apply(0, webCfg)
	for _, rt := range e.srv.routes() {
		if rt.path == "/api/v1/events" || rt.path == "/api/v1/login" {
			continue // a stream (TestEventsNeedAuth) and the login itself (TestLoginRateLimit)
		}
		path := strings.NewReplacer("{n}", "1", "{a}", "1", "{b}", "1", "{$}", "").Replace(rt.path)
		var body any
		if rt.method != "GET" {
			body = "{}"
		}
		for _, role := range []auth.Role{auth.RoleViewer, auth.RoleOperator, auth.RoleAdmin} {
			r := e.do(rt.method, path, creds[role], body)
			if role.Allows(rt.perm) {
				if r.code == 401 || r.code == 403 {
					t.Errorf("%s %s as %s: %d %s", rt.method, path, role, r.code, r.body)
				}
			} else if r.code != http.StatusForbidden || !strings.Contains(r.errBody(t).Error, "needs role") {
				t.Errorf("%s %s as %s: %d (want 403) %s", rt.method, path, role, r.code, r.body)
			}
		}
		r := e.do(rt.method, path, "", body)
		if rt.perm == auth.PermNone {
			if r.code == 401 {
				t.Errorf("%s %s without credentials: 401", rt.method, path)
			}
		} else if r.code != 401 || !strings.HasPrefix(r.hdr.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s %s without credentials: %d %v", rt.method, path, r.code, r.hdr)
		}
	}
}

func TestBadPasswordAndToken(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/whoami", basicAuth("alice", "wrong"), nil)
	if r.code != 401 || r.errBody(t).Error == "" {
		t.Fatalf("bad password: %d %s", r.code, r.body)
	}
	r = e.do("GET", "/api/v1/whoami", "Bearer lvsb_nope", nil)
	if r.code != 401 {
		t.Fatalf("bad token: %d", r.code)
	}
	r = e.do("GET", "/api/v1/whoami", "Bearer "+e.token, nil)
	var id auth.Identity
	r.decode(t, &id)
	if r.code != 200 || id != (auth.Identity{User: "olga", Role: auth.RoleOperator, Via: "token", Token: "ci"}) {
		t.Fatalf("token: %d %+v", r.code, id)
	}
	// The token carries olga's role: operator may apply but not export.
	if r := e.do("PUT", "/api/v1/config", "Bearer "+e.token, map[string]any{"base_revision": 0, "config": map[string]any{}}); r.code != 200 {
		t.Fatalf("operator token apply: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/export", "Bearer "+e.token, nil); r.code != 403 {
		t.Fatalf("operator token export: %d", r.code)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	// The default per-user budget is 5 failures.
	for i := 0; i < 5; i++ {
		if r := e.do("POST", "/api/v1/login", "", LoginRequest{Username: "vic", Password: "guess" + strconv.Itoa(i)}); r.code != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.code, r.body)
		}
	}
	r := e.do("POST", "/api/v1/login", "", LoginRequest{Username: "vic", Password: "vic-pw"})
	if r.code != http.StatusTooManyRequests || r.hdr.Get("Retry-After") != "12" {
		t.Fatalf("6th attempt: %d Retry-After %q %s", r.code, r.hdr.Get("Retry-After"), r.body)
	}
	r.errBody(t)
	// Basic auth counts against the same budget.
	if r := e.do("GET", "/api/v1/status", creds[auth.RoleViewer], nil); r.code != 429 {
		t.Fatalf("basic while limited: %d", r.code)
	}
	e.clock.Add(12 * time.Second)
	r = e.do("POST", "/api/v1/login", "", LoginRequest{Username: "vic", Password: "vic-pw"})
	var lr LoginResponse
	r.decode(t, &lr)
	if r.code != 200 || !strings.HasPrefix(lr.Token, auth.SessionTokenPrefix) || lr.Role != auth.RoleViewer {
		t.Fatalf("login after waiting: %d %s", r.code, r.body)
	}
	// The session works until logout.
	if r := e.do("GET", "/api/v1/status", "Bearer "+lr.Token, nil); r.code != 200 {
		t.Fatalf("session: %d", r.code)
	}
	if r := e.do("POST", "/api/v1/logout", "Bearer "+lr.Token, "{}"); r.code != 204 {
		t.Fatalf("logout: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/status", "Bearer "+lr.Token, nil); r.code != 401 {
		t.Fatalf("session after logout: %d", r.code)
	}
}

func TestTLSPostNeedsJSONContentType(t *testing.T) {
	e := newEnv(t)
	req := "/api/v1/revisions/1/rollback"
	r := e.do("POST", req, creds[auth.RoleAdmin], nil) // no body, no Content-Type
	if r.code != http.StatusUnsupportedMediaType {
		t.Fatalf("form-like POST: %d %s", r.code, r.body)
	}
}
