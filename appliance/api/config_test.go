package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/config"
)

var admin = creds[auth.RoleAdmin]

func paths(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Path)
	}
	slices.Sort(out)
	return out
}

func TestConfigGetPutAndConflict(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/config", admin, nil)
	var cr ConfigResponse
	r.decode(t, &cr)
	if r.code != 200 || cr.Revision.Number != 0 {
		t.Fatalf("empty store: %d %s", r.code, r.body)
	}
	if n := e.apply(0, webCfg); n != 1 {
		t.Fatalf("first revision = %d", n)
	}
	r = e.do("GET", "/api/v1/config", creds[auth.RoleViewer], nil)
	r.decode(t, &cr)
	if cr.Revision.Number != 1 || cr.Revision.User != "alice" || cr.Revision.Comment != "test" || !strings.Contains(string(cr.Config), `"192.0.2.12"`) {
		t.Fatalf("current: %s", r.body)
	}

	// A change based on revision 0 is stale now: 409, nothing stored.
	r = e.do("PUT", "/api/v1/config", admin, map[string]any{"base_revision": 0, "config": json.RawMessage(web2Cfg)})
	if r.code != http.StatusConflict || !strings.Contains(r.errBody(t).Error, "conflict") {
		t.Fatalf("stale base: %d %s", r.code, r.body)
	}
	if h, _ := e.store.History(10); len(h) != 1 {
		t.Fatalf("stale change stored: %+v", h)
	}
	// Missing base_revision is a client error, not a silent overwrite.
	r = e.do("PUT", "/api/v1/config", admin, map[string]any{"config": json.RawMessage(web2Cfg)})
	if r.code != 400 || paths(r.errBody(t).Details)[0] != "base_revision" {
		t.Fatalf("no base: %d %s", r.code, r.body)
	}
	// Unknown envelope fields are refused.
	r = e.do("PUT", "/api/v1/config", admin, map[string]any{"base_revision": 1, "cofnig": 1})
	if r.code != 400 || !strings.Contains(r.errBody(t).Error, "cofnig") {
		t.Fatalf("typo in envelope: %d %s", r.code, r.body)
	}
}

func TestInvalidConfigIs422WithPaths(t *testing.T) {
	e := newEnv(t)
	bad := `{"virtual_services":[{"name":"web","address":"192.0.2.100","port":70000,"colour":"red",
	  "real_servers":[{"address":"192.0.2.11"}]}]}`
	r := e.do("PUT", "/api/v1/config", admin, map[string]any{"base_revision": 0, "config": json.RawMessage(bad)})
	eb := r.errBody(t)
	if r.code != http.StatusUnprocessableEntity || eb.Error != "invalid configuration" ||
		!slices.Contains(paths(eb.Details), "virtual_services[web].colour") {
		t.Fatalf("unknown field: %d %s", r.code, r.body)
	}
	bad = strings.Replace(bad, `"colour":"red",`, "", 1)
	r = e.do("PUT", "/api/v1/config", admin, map[string]any{"base_revision": 0, "config": json.RawMessage(bad)})
	eb = r.errBody(t)
	if r.code != 422 || !slices.Contains(paths(eb.Details), "virtual_services[web].port") {
		t.Fatalf("bad port: %d %s", r.code, r.body)
	}
	for _, d := range eb.Details {
		if d.Message == "" {
			t.Errorf("detail without a message: %+v", d)
		}
	}
	if h, _ := e.store.History(10); len(h) != 0 {
		t.Fatal("invalid configuration stored")
	}
	r = e.do("PUT", "/api/v1/config", admin, `{"base_revision":0,"config":{"virtual_services":[}}`)
	if r.code != 400 {
		t.Fatalf("syntax error: %d %s", r.code, r.body)
	}
	r = e.do("PUT", "/api/v1/config", admin, map[string]any{"base_revision": 0})
	if r.code != 400 || paths(r.errBody(t).Details)[0] != "config" {
		t.Fatalf("missing config: %d %s", r.code, r.body)
	}
}

func TestValidateDryRun(t *testing.T) {
	e := newEnv(t)
	e.planner.changes = []string{"add service tcp/192.0.2.100:80 (wlc)"}
	r := e.do("POST", "/api/v1/config/validate", creds[auth.RoleViewer], map[string]any{"config": json.RawMessage(webCfg)})
	var vr ValidateResponse
	r.decode(t, &vr)
	if r.code != 200 || !vr.Valid || len(vr.Errors) != 0 || !slices.Equal(vr.Changes, e.planner.changes) || vr.PlanError != "" {
		t.Fatalf("valid: %d %s", r.code, r.body)
	}
	if len(e.planner.got) != 1 || e.planner.got[0].VirtualServices[0].Name != "web" {
		t.Fatalf("planner got %+v", e.planner.got)
	}
	if h, _ := e.store.History(1); len(h) != 0 {
		t.Fatal("dry run committed")
	}

	bad := strings.Replace(webCfg, `"port":80`, `"port":0`, 1)
	r = e.do("POST", "/api/v1/config/validate", creds[auth.RoleViewer], map[string]any{"config": json.RawMessage(bad)})
	vr = ValidateResponse{}
	r.decode(t, &vr)
	if r.code != 200 || vr.Valid || !slices.Contains(paths(vr.Errors), "virtual_services[web].port") || len(vr.Changes) != 0 || len(e.planner.got) != 1 {
		t.Fatalf("invalid: %d %s", r.code, r.body)
	}

	e.planner.err = errors.New("ipvs: IPVS is not available")
	r = e.do("POST", "/api/v1/config/validate", creds[auth.RoleViewer], map[string]any{"config": json.RawMessage(webCfg)})
	vr = ValidateResponse{}
	r.decode(t, &vr)
	if !vr.Valid || vr.PlanError != "ipvs: IPVS is not available" || vr.Changes == nil {
		t.Fatalf("plan error: %s", r.body)
	}
}

func TestRevisionsHistoryDiffRollback(t *testing.T) {
	e := newEnv(t)
	e.apply(0, webCfg)
	e.clock.Add(time.Minute)
	e.apply(1, web2Cfg)

	r := e.do("GET", "/api/v1/revisions?limit=1", creds[auth.RoleViewer], nil)
	var rr RevisionsResponse
	r.decode(t, &rr)
	if r.code != 200 || len(rr.Revisions) != 1 || rr.Revisions[0].Number != 2 {
		t.Fatalf("history: %s", r.body)
	}
	if r := e.do("GET", "/api/v1/revisions?limit=0", admin, nil); r.code != 400 {
		t.Fatalf("limit 0: %d", r.code)
	}

	r = e.do("GET", "/api/v1/revisions/1", creds[auth.RoleViewer], nil)
	var cr ConfigResponse
	r.decode(t, &cr)
	if cr.Revision.Number != 1 || !strings.Contains(string(cr.Config), "192.0.2.12") {
		t.Fatalf("revision 1: %s", r.body)
	}
	if r := e.do("GET", "/api/v1/revisions/9", admin, nil); r.code != 404 {
		t.Fatalf("missing revision: %d", r.code)
	}
	if r := e.do("GET", "/api/v1/revisions/x", admin, nil); r.code != 400 {
		t.Fatalf("bad number: %d", r.code)
	}

	r = e.do("GET", "/api/v1/revisions/1/diff/2", creds[auth.RoleViewer], nil)
	var dr DiffResponse
	r.decode(t, &dr)
	if r.code != 200 || dr.From != 1 || dr.To != 2 || len(dr.Changes) == 0 {
		t.Fatalf("diff: %s", r.body)
	}
	found := false
	for _, c := range dr.Changes {
		if c.Path == "virtual_services[web].real_servers[0].weight" && c.Op == "add" && string(c.New) == "5" {
			found = true
		}
	}
	if !found {
		t.Fatalf("diff lacks the weight: %s", r.body)
	}

	// Rollback with a stale base: 409.
	r = e.do("POST", "/api/v1/revisions/1/rollback", creds[auth.RoleOperator], RollbackRequest{BaseRevision: ptr(uint64(1))})
	if r.code != 409 {
		t.Fatalf("stale rollback: %d %s", r.code, r.body)
	}
	r = e.do("POST", "/api/v1/revisions/1/rollback", creds[auth.RoleOperator], "{}")
	var commit CommitResponse
	r.decode(t, &commit)
	if r.code != 200 || commit.Revision.Number != 3 || commit.Revision.RolledBackFrom != 1 || commit.Revision.Comment != "rollback to revision 1" || commit.Revision.User != "olga" {
		t.Fatalf("rollback: %d %s", r.code, r.body)
	}
	cur, _ := e.store.Current()
	if len(cur.Config.VirtualServices[0].RealServers) != 2 {
		t.Fatalf("rollback content: %+v", cur.Config)
	}
	if r := e.do("POST", "/api/v1/revisions/42/rollback", admin, "{}"); r.code != 404 {
		t.Fatalf("rollback to missing: %d", r.code)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCommitConfirmed(t *testing.T) {
	e := newEnv(t)
	e.apply(0, webCfg)
	r := e.do("PUT", "/api/v1/config", creds[auth.RoleOperator], map[string]any{"base_revision": 1, "confirm_within": "5m", "config": json.RawMessage(web2Cfg)})
	var cr CommitResponse
	r.decode(t, &cr)
	if r.code != 200 || cr.Revision.ConfirmBy == nil || !cr.Revision.ConfirmBy.Equal(e.clock.Now().Add(5*time.Minute)) {
		t.Fatalf("confirmed commit: %d %s", r.code, r.body)
	}
	// Status shows it pending.
	r = e.do("GET", "/api/v1/status", creds[auth.RoleViewer], nil)
	var doc Document
	r.decode(t, &doc)
	if doc.Config == nil || doc.Config.PendingConfirm == nil || doc.Config.PendingConfirm.Revision != 2 || doc.Config.PendingConfirm.Remaining != "5m0s" {
		t.Fatalf("status: %s", r.body)
	}
	// Another commit while pending: 409.
	r = e.do("PUT", "/api/v1/config", admin, map[string]any{"base_revision": 2, "config": json.RawMessage(webCfg)})
	if r.code != 409 {
		t.Fatalf("commit while pending: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/revisions/2/confirm", creds[auth.RoleViewer], "{}"); r.code != 403 {
		t.Fatalf("viewer confirm: %d", r.code)
	}
	r = e.do("POST", "/api/v1/revisions/2/confirm", creds[auth.RoleOperator], "{}")
	cr = CommitResponse{}
	r.decode(t, &cr)
	if r.code != 200 || !cr.Revision.Confirmed {
		t.Fatalf("confirm: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/revisions/2/confirm", admin, "{}"); r.code != 409 {
		t.Fatalf("confirm twice: %d %s", r.code, r.body)
	}
	if r := e.do("PUT", "/api/v1/config", admin, map[string]any{"base_revision": 2, "confirm_within": "forever", "config": json.RawMessage(webCfg)}); r.code != 400 {
		t.Fatalf("bad confirm_within: %d", r.code)
	}
}

func TestExportImport(t *testing.T) {
	e := newEnv(t)
	e.apply(0, webCfg)
	r := e.do("GET", "/api/v1/export", admin, nil)
	if r.code != 200 || !strings.Contains(r.hdr.Get("Content-Disposition"), "attachment") || !strings.Contains(string(r.body), `"schema"`) {
		t.Fatalf("export: %d %v %s", r.code, r.hdr, r.body)
	}
	exported := string(r.body)
	e.apply(1, web2Cfg)
	r = e.do("POST", "/api/v1/import?base_revision=2&comment=restore", admin, exported)
	var cr CommitResponse
	r.decode(t, &cr)
	if r.code != 200 || cr.Revision.Number != 3 || cr.Revision.Comment != "restore" {
		t.Fatalf("import: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/import?base_revision=2", admin, exported); r.code != 409 {
		t.Fatalf("stale import: %d", r.code)
	}
	if r := e.do("POST", "/api/v1/import", admin, exported); r.code != 400 {
		t.Fatalf("import without base: %d", r.code)
	}
	if r := e.do("POST", "/api/v1/import?base_revision=3", admin, `{"virtual_services":[{"name":"x","port":80}]}`); r.code != 422 {
		t.Fatalf("invalid import: %d %s", r.code, r.body)
	}
	r = e.do("POST", "/api/v1/import?base_revision=3", admin, `{"schema":99,"revision":1,"config":{},"extra":1}`)
	if eb := r.errBody(t); r.code != 422 || len(eb.Details) != 2 || eb.Details[0].Path != "extra" || eb.Details[1].Path != "schema" {
		t.Fatalf("bad export document: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/import?base_revision=3", admin, `[1,2]`); r.code != 400 {
		t.Fatalf("not an object: %d %s", r.code, r.body)
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	e := newEnv(t)
	r := e.do("DELETE", "/api/v1/config", admin, nil)
	if r.code != 405 || r.hdr.Get("Allow") != "GET, PUT" {
		t.Fatalf("DELETE config: %d %v %s", r.code, r.hdr, r.body)
	}
	r.errBody(t)
	if r := e.do("GET", "/api/v1/nope", admin, nil); r.code != 404 || r.errBody(t).Error == "" {
		t.Fatalf("unknown path: %d", r.code)
	}
	// The plain-HTTP listener serves status only.
	rec := httptestDo(e.srv.Handler(), "GET", "/api/v1/config")
	if rec.code != 403 || !strings.Contains(rec.errBody(t).Error, "HTTPS") {
		t.Fatalf("plain config: %d %s", rec.code, rec.body)
	}
	if rec := httptestDo(e.srv.Handler(), "GET", "/api/v1/status"); rec.code != 200 {
		t.Fatalf("plain status: %d", rec.code)
	}
}

func httptestDo(h http.Handler, method, path string) response {
	rec := newRecorder()
	h.ServeHTTP(rec, newRequest(method, path))
	return response{rec.Code, rec.Header(), rec.Body.Bytes()}
}

func TestSocketServesAsAdmin(t *testing.T) {
	e := newEnv(t)
	c := e.serveSocket()
	resp, err := c.Get("http://lvsbox/api/v1/whoami")
	if err != nil {
		t.Fatal(err)
	}
	var id auth.Identity
	json.NewDecoder(resp.Body).Decode(&id)
	resp.Body.Close()
	if id.Role != auth.RoleAdmin || id.Via != "socket" || !strings.HasPrefix(id.User, "local:") {
		t.Fatalf("socket identity %+v", id)
	}
	// Apply over the socket without any credentials; the user is recorded.
	body := `{"base_revision":0,"comment":"via socket","config":` + webCfg + `}`
	req, _ := http.NewRequest("PUT", "http://lvsbox/api/v1/config", strings.NewReader(body))
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("apply over socket: %d %s", resp.StatusCode, data)
	}
	if cur, _ := e.store.Current(); cur.User != id.User || cur.Comment != "via socket" {
		t.Fatalf("recorded %+v", cur.RevisionInfo)
	}
}

const usersCfg = `{"virtual_services":[{"name":"web","address":"192.0.2.100","port":80,"forwarding":"dr",
  "real_servers":[{"address":"192.0.2.11"}]}],
  "users":[{"name":"root1","role":"admin","password_hash":"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    "tokens":[{"name":"ci","hash":"sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}]},
   {"name":"ops","role":"operator"}]}`

func TestUsersAreAdminOnlyAndRedacted(t *testing.T) {
	e := newEnv(t)
	e.apply(0, usersCfg)

	// Viewers and operators see the users without their secrets.
	r := e.do("GET", "/api/v1/config", creds[auth.RoleOperator], nil)
	var cr ConfigResponse
	r.decode(t, &cr)
	if strings.Contains(string(cr.Config), "argon2id") || strings.Contains(string(cr.Config), "2c26b46b") || !strings.Contains(string(cr.Config), Redacted) {
		t.Fatalf("operator sees secrets: %s", cr.Config)
	}
	r = e.do("GET", "/api/v1/revisions/1", admin, nil)
	r.decode(t, &cr)
	if !strings.Contains(string(cr.Config), "argon2id") {
		t.Fatalf("admin does not see hashes: %s", cr.Config)
	}

	// An operator may send the redacted copy back with other changes: the users stay.
	r = e.do("GET", "/api/v1/config", creds[auth.RoleOperator], nil)
	r.decode(t, &cr)
	edited := regexp.MustCompile(`"port":\s*80\b`).ReplaceAllString(string(cr.Config), `"port": 8080`)
	r = e.do("PUT", "/api/v1/config", creds[auth.RoleOperator], map[string]any{"base_revision": 1, "config": json.RawMessage(edited)})
	if r.code != 200 {
		t.Fatalf("operator edit with redacted users: %d %s", r.code, r.body)
	}
	cur, _ := e.store.Current()
	if cur.Config.VirtualServices[0].Port != 8080 || len(cur.Config.Users) != 2 || !strings.HasPrefix(cur.Config.Users[0].PasswordHash, "$argon2id$") ||
		cur.Config.Users[0].Tokens[0].Hash != "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" {
		t.Fatalf("users after operator edit: %+v", cur.Config.Users)
	}

	// But may not change them.
	promoted := regexp.MustCompile(`"role":\s*"operator"`).ReplaceAllString(edited, `"role": "admin"`)
	r = e.do("PUT", "/api/v1/config", creds[auth.RoleOperator], map[string]any{"base_revision": 2, "config": json.RawMessage(promoted)})
	if r.code != 403 || r.errBody(t).Details[0].Path != "users" {
		t.Fatalf("operator promotes a user: %d %s", r.code, r.body)
	}
	// Nor roll back to a revision with other users.
	e.apply(2, webCfg) // admin drops the users
	if r := e.do("POST", "/api/v1/revisions/2/rollback", creds[auth.RoleOperator], "{}"); r.code != 403 {
		t.Fatalf("operator rollback changing users: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/revisions/2/rollback", admin, "{}"); r.code != 200 {
		t.Fatalf("admin rollback: %d %s", r.code, r.body)
	}

	// Diffs hide hashes from non-admins.
	r = e.do("GET", "/api/v1/revisions/2/diff/3", creds[auth.RoleViewer], nil)
	if r.code != 200 || strings.Contains(string(r.body), "argon2id") || strings.Contains(string(r.body), "2c26b46b") {
		t.Fatalf("viewer diff: %d %s", r.code, r.body)
	}
	r = e.do("GET", "/api/v1/revisions/2/diff/3", admin, nil)
	if !strings.Contains(string(r.body), "argon2id") {
		t.Fatalf("admin diff: %s", r.body)
	}
}

func TestValidateReportsWarningsAndSystemProblems(t *testing.T) {
	e := newEnv(t)
	e.srv.Env = func() config.Env { return config.Env{Links: []config.HostLink{{Name: "eth0"}}} }
	cfg := `{"interfaces":[{"name":"eth9","addresses":["192.0.2.2/24"]}],
	  "virtual_services":[{"name":"empty","address":"192.0.2.100","port":80}]}`
	r := e.do("POST", "/api/v1/config/validate", admin, map[string]any{"config": json.RawMessage(cfg)})
	var vr ValidateResponse
	r.decode(t, &vr)
	if !vr.Valid || len(vr.Errors) != 0 {
		t.Fatalf("document is valid on its own: %s", r.body)
	}
	var sys, risky bool
	for _, w := range vr.Warnings {
		if strings.HasPrefix(w.Path, "interfaces[eth9]") && strings.HasPrefix(w.Message, "on this system: ") {
			sys = true
		}
		if w.Path == "virtual_services[empty].real_servers" {
			risky = true
		}
	}
	if !sys || !risky {
		t.Fatalf("warnings: %+v", vr.Warnings)
	}
	// The same warnings come back from a commit.
	r = e.do("PUT", "/api/v1/config", admin, map[string]any{"base_revision": 0, "config": json.RawMessage(cfg)})
	var commit CommitResponse
	r.decode(t, &commit)
	if r.code != 200 || len(commit.Warnings) == 0 || commit.Warnings[0].Path != "virtual_services[empty].real_servers" {
		t.Fatalf("commit warnings: %d %s", r.code, r.body)
	}
}
