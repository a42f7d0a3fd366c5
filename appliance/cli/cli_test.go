package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/api"
	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/engine"
	"github.com/lvsbox/lvsbox/appliance/health/scheduler"
	"github.com/lvsbox/lvsbox/appliance/healthd"
	"github.com/lvsbox/lvsbox/appliance/tlscert"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func statusDoc() api.Document {
	confirmBy := t0.Add(5 * time.Minute)
	return api.Document{
		Hostname: "lb1",
		Version:  &api.Version{GitRevision: "abc123", GoVersion: "go1.26.8", KernelVersion: "6.1.0-40-amd64", Board: "qemu-x86_64"},
		Status: engine.Status{
			Ready:    true,
			Revision: &engine.RevisionInfo{Number: 4, Time: t0, Comment: "more weight"},
			IPVS: engine.IPVSStatus{Available: true, Services: []engine.ServiceStatus{
				{Name: "web", Protocol: "tcp", Address: "192.0.2.100", Port: 80, Scheduler: "wrr", Destinations: []engine.DestinationStatus{
					{Address: "198.51.100.11", Port: 80, Forwarding: "nat", Weight: 3, ActiveConns: 12, InactiveConns: 40},
					{Address: "198.51.100.12", Port: 8080, Forwarding: "nat", Weight: 1, ActiveConns: 0, InactiveConns: 7},
				}},
				{Name: "dns", Protocol: "udp", Address: "192.0.2.53", Port: 53, Scheduler: "sh", Flags: ipvs1 | ipvs2 | 1, Timeout: 300,
					Destinations: []engine.DestinationStatus{{Address: "192.0.2.201", Port: 53, Forwarding: "dr", Weight: 1}}},
				{Name: "v6", Protocol: "tcp", Address: "2001:db8::100", Port: 443, Scheduler: "rr", Destinations: []engine.DestinationStatus{
					{Address: "2001:db8::11", Port: 443, Forwarding: "tun", Weight: 100, ActiveConns: 1234567, InactiveConns: 0},
				}},
				{FWMark: 7, Scheduler: "wlc", Flags: 4},
			}},
			LastPass: &engine.PassInfo{Time: t0.Add(2 * time.Second), Duration: "1.2ms", Writes: 0, Errors: []string{"netcfg: add address 192.0.2.2/24 on eth9: link not found"}},
			Passes:   17,
			NICs: []engine.NICStatus{
				{Name: "eth0", MTU: 1500, AdminUp: true, OperState: "up", Features: []engine.FeatureStatus{
					{Policy: "off", Feature: "rx-gro", Wanted: false, Actual: false, Present: true},
					{Policy: "off", Feature: "rx-lro", Wanted: false, Actual: false, Fixed: true, Present: true},
					{Policy: "off", Feature: "rx-gro-hw", Wanted: false, Actual: true, Present: true},
					{Policy: "auto", Feature: "tx-tcp-segmentation", Present: false},
				}, Conditions: []string{}, Errors: []string{"rx-gro-hw: operation not supported"}},
				{Name: "eth1", MTU: 1500, WantMTU: 9000, AdminUp: true, OperState: "down", Features: []engine.FeatureStatus{},
					Conditions: []string{"no carrier"}},
			},
			Sysctls: []engine.SysctlStatus{
				{Key: "net.ipv4.ip_forward", Value: "1", Actual: "1", Reason: "NAT services forward real servers' replies", Source: "lvsbox", OK: true},
				{Key: "net.ipv4.vs.conntrack", Value: "0", Actual: "1", Reason: "set in system.sysctls", Source: "override", OK: false},
			},
		},
		Config: &api.ConfigState{
			Revision:       &api.RevisionInfo{Number: 5, Time: t0, User: "alice", Comment: "risky", ConfirmBy: &confirmBy},
			PendingConfirm: &api.PendingConfirm{Revision: 5, ConfirmBy: confirmBy, Remaining: "4m12s"},
		},
		Health: healthStatus(),
		Interfaces: []api.Interface{
			{Name: "lo", MTU: 65536, Up: true, Addresses: []string{"127.0.0.1/8", "::1/128"}},
			{Name: "eth0", MAC: "52:54:00:12:34:56", MTU: 1500, Up: true, Addresses: []string{"192.0.2.2/24"}},
			{Name: "eth1", MAC: "52:54:00:12:34:57", MTU: 9000, Addresses: []string{}},
		},
	}
}

func healthStatus() *healthd.Status {
	ok := func(text string) *scheduler.ServerView {
		at := t0.Add(-time.Second)
		return &scheduler.ServerView{Type: "http", Target: "198.51.100.11:80", State: "up", InStateSeconds: 303.7, LastCheck: &at,
			LastOK: true, LastResult: text, LatencyMS: 1.2, Checks: 300, SharedBy: 2, History: []scheduler.TransitionView{}}
	}
	down := &scheduler.ServerView{Type: "tcp", Target: "198.51.100.12:8081", State: "down", InStateSeconds: 12.2, Flaps: 2,
		LastResult: "connect: connection refused", History: []scheduler.TransitionView{
			{At: t0.Add(-12 * time.Second), State: "down", Reason: "2 failed checks, last: connect: connection refused"}}}
	return &healthd.Status{Probes: 2, CheckedRealServers: 3, Services: []healthd.ServiceStatus{
		{Name: "web", QuorumUp: true, MinimumWeight: 2, Hysteresis: 1, UpWeight: 3, UpServers: 1, Servers: 3,
			Sorry: &healthd.SorryStatus{Address: "198.51.100.99", Port: 80},
			VRRP:  &healthd.VRRPStatus{},
			RealServers: []healthd.RealServerStatus{
				{Address: "198.51.100.11", Port: 80, State: "up", AdminState: "enabled", InTable: true, Weight: 3, OnFailure: "remove",
					Check: ok("HTTP 200 from 198.51.100.11:80 in 1.2 ms")},
				{Address: "198.51.100.12", Port: 8080, State: "down", AdminState: "enabled", OnFailure: "remove", Check: down},
				{Address: "198.51.100.13", Port: 80, State: "unchecked", AdminState: "drain", InTable: true},
				{Address: "198.51.100.14", Port: 80, State: "disabled", AdminState: "disabled"},
			}},
		{Name: "dns", MinimumWeight: 1, Servers: 1, Sorry: &healthd.SorryStatus{Address: "192.0.2.250", Port: 53, Active: true},
			VRRP: &healthd.VRRPStatus{PriorityDelta: -50},
			RealServers: []healthd.RealServerStatus{
				{Address: "192.0.2.201", Port: 53, State: "error", AdminState: "enabled", OnFailure: "quiesce", InTable: true,
					Error: "check cannot run: health: dns.name: required"},
			}},
	}}
}

const (
	ipvs1 = 0x0008
	ipvs2 = 0x0010
)

// fakeAPI answers like lvsboxd with canned documents and records what it was sent.
type fakeAPI struct {
	mu       sync.Mutex
	requests []string // "METHOD PATH?QUERY body"
	authz    []string
	answers  map[string]answer // by "METHOD PATH"
}

type answer struct {
	code int
	body any
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, strings.TrimSpace(r.Method+" "+r.URL.RequestURI()+" "+string(body)))
	f.authz = append(f.authz, r.Header.Get("Authorization"))
	a, ok := f.answers[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if !ok {
		a = answer{404, api.ErrorBody{Error: "no such endpoint", Details: []api.Problem{}}}
	}
	if a.code == 0 {
		a.code = 200
	}
	if a.code == 429 {
		w.Header().Set("Retry-After", "12")
	}
	if raw, ok := a.body.([]byte); ok {
		w.WriteHeader(a.code)
		w.Write(raw)
		return
	}
	data, _ := json.MarshalIndent(a.body, "", "  ")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.code)
	w.Write(append(data, '\n'))
}

func (f *fakeAPI) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

func newFake() *fakeAPI {
	confirmBy := t0.Add(5 * time.Minute)
	cur := api.RevisionInfo{Number: 5, Time: t0, User: "alice", Comment: "risky", ConfirmBy: &confirmBy}
	return &fakeAPI{answers: map[string]answer{
		"GET /api/v1/status": {body: statusDoc()},
		"GET /api/v1/config": {body: api.ConfigResponse{Revision: cur, Config: json.RawMessage(`{"system":{"hostname":"lb1"}}`)}},
		"GET /api/v1/revisions/3": {body: api.ConfigResponse{Revision: api.RevisionInfo{Number: 3, Time: t0, User: "bob"},
			Config: json.RawMessage(`{"system":{}}`)}},
		"PUT /api/v1/config": {body: api.CommitResponse{Revision: api.RevisionInfo{Number: 6, Time: t0, User: "local:root", Comment: "c"},
			Warnings: []api.Problem{{Path: "virtual_services[web].real_servers", Message: "no real servers and no sorry server"}}}},
		"POST /api/v1/config/validate": {body: api.ValidateResponse{Valid: true, Errors: []api.Problem{}, Warnings: []api.Problem{},
			Changes: []string{"add service tcp/192.0.2.100:80 (wlc)", "add destination 192.0.2.11:80 to tcp/192.0.2.100:80 (dr, weight 1)"}}},
		"GET /api/v1/revisions": {body: api.RevisionsResponse{Revisions: []api.RevisionInfo{
			cur,
			{Number: 4, Time: t0.Add(-time.Hour), User: "olga", Comment: "rollback to revision 2", RolledBackFrom: 2},
			{Number: 3, Time: t0.Add(-2 * time.Hour), User: "alice", Comment: "try", Confirmed: true},
			{Number: 1, Time: t0.Add(-3 * time.Hour), User: "lvsboxd", Comment: "seed import"},
		}}},
		"GET /api/v1/revisions/1/diff/2": {body: api.DiffResponse{From: 1, To: 2, Changes: []api.Change{
			{Path: "virtual_services[web].real_servers[0].weight", Op: "change", Old: json.RawMessage("1"), New: json.RawMessage("5")},
			{Path: "virtual_services[web].real_servers[2]", Op: "add", New: json.RawMessage(`{"address":"192.0.2.13"}`)},
			{Path: "routes[0]", Op: "remove", Old: json.RawMessage(`{"destination":"0.0.0.0/0","gateway":"192.0.2.1"}`)},
		}}},
		"POST /api/v1/revisions/2/rollback": {body: api.CommitResponse{Revision: api.RevisionInfo{Number: 6, Time: t0, User: "local:root",
			Comment: "rollback to revision 2", RolledBackFrom: 2, ConfirmBy: &confirmBy}, Warnings: []api.Problem{}}},
		"POST /api/v1/revisions/5/confirm": {body: api.CommitResponse{Revision: api.RevisionInfo{Number: 5, Time: t0, User: "alice", Confirmed: true}, Warnings: []api.Problem{}}},
		"GET /api/v1/export":               {body: []byte("{\n  \"schema\": 2,\n  \"revision\": 5,\n  \"config\": {}\n}\n")},
		"POST /api/v1/import":              {body: api.CommitResponse{Revision: api.RevisionInfo{Number: 6, Time: t0, User: "local:root", Comment: "import"}, Warnings: []api.Problem{}}},
		"GET /api/v1/whoami":               {body: auth.Identity{User: "olga", Role: auth.RoleOperator, Via: "token", Token: "ci"}},
		"POST /api/v1/login":               {body: api.LoginResponse{Token: "lvss_abc", Expires: t0.Add(8 * time.Hour), User: "olga", Role: auth.RoleOperator}},
	}}
}

// serveUnix serves h on a Unix socket in a temp dir and returns its path.
func serveUnix(t *testing.T, h http.Handler) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return path
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
		Now:    func() time.Time { return t0 },
	})
	return result{code, out.String(), errb.String()}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got ---\n%s--- want ---\n%s", name, path, got, want)
	}
}

func TestGoldenOutputs(t *testing.T) {
	f := newFake()
	sock := serveUnix(t, f)
	cases := []struct {
		name string
		args []string
	}{
		{"ipvs", []string{"ipvs"}},
		{"ipvs.json", []string{"ipvs", "--json"}},
		{"status", []string{"status"}},
		{"status.json", []string{"--json", "status"}},
		{"history", []string{"config", "history"}},
		{"history.json", []string{"config", "history", "--json"}},
		{"diff", []string{"config", "diff", "1", "2"}},
		{"diff.json", []string{"config", "diff", "--json", "1", "2"}},
		{"config-get", []string{"config", "get"}},
		{"config-get.json", []string{"config", "get", "--json"}},
		{"whoami", []string{"whoami"}},
		{"whoami.json", []string{"whoami", "--json"}},
		{"rollback", []string{"config", "rollback", "2", "--confirm", "5m"}},
	}
	for _, c := range cases {
		r := run(t, "", nil, append([]string{"--socket", sock}, c.args...)...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", c.args, r.code, r.stderr)
			continue
		}
		golden(t, c.name, r.stdout)
	}
}

func TestIPVSLayoutMatchesIpvsadm(t *testing.T) {
	var b bytes.Buffer
	writeIPVS(&b, statusDoc().IPVS.Services)
	lines := strings.Split(b.String(), "\n")
	// The header and column positions of ipvsadm 1.31's `ipvsadm -Ln`.
	if lines[1] != "Prot LocalAddress:Port Scheduler Flags" ||
		lines[2] != "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn" {
		t.Fatalf("header:\n%s", b.String())
	}
	if lines[3] != "TCP  192.0.2.100:80 wrr" ||
		lines[4] != "  -> 198.51.100.11:80             Masq    3      12         40        " {
		t.Fatalf("rows:\n%q\n%q", lines[3], lines[4])
	}
	if !strings.Contains(b.String(), "UDP  192.0.2.53:53 sh persistent 300 sh-fallback,sh-port\n") ||
		!strings.Contains(b.String(), "TCP  [2001:db8::100]:443 rr\n  -> [2001:db8::11]:443") ||
		!strings.Contains(b.String(), "FWM  7 wlc ops\n") {
		t.Fatalf("flags, IPv6 or fwmark:\n%s", b.String())
	}
}

func TestApplyValidateConfirmImportRequests(t *testing.T) {
	f := newFake()
	sock := serveUnix(t, f)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.json")
	os.WriteFile(cfgFile, []byte(`{"system":{"hostname":"lb2"}}`), 0o644)

	r := run(t, "", nil, "--socket", sock, "config", "apply", "-f", cfgFile, "--comment", "c", "--confirm", "2m")
	if r.code != 0 || !strings.Contains(r.stdout, "committed revision 6") || !strings.Contains(r.stdout, "warning: virtual_services[web].real_servers") {
		t.Fatalf("apply: %+v", r)
	}
	if got := f.last(); got != `PUT /api/v1/config {"base_revision":5,"comment":"c","confirm_within":"2m0s","config":{"system":{"hostname":"lb2"}}}` {
		t.Fatalf("apply request: %s", got)
	}
	// An export document carries its own base revision.
	os.WriteFile(cfgFile, []byte(`{"schema":2,"revision":3,"config":{"system":{}}}`), 0o644)
	if r := run(t, "", nil, "--socket", sock, "config", "apply", "-f", cfgFile); r.code != 0 {
		t.Fatalf("apply export doc: %+v", r)
	}
	if got := f.last(); got != `PUT /api/v1/config {"base_revision":3,"comment":"","config":{"system":{}}}` {
		t.Fatalf("apply export doc request: %s", got)
	}
	// From stdin, with an explicit base.
	if r := run(t, `{"routes":[]}`, nil, "--socket", sock, "config", "apply", "-f", "-", "--base", "9"); r.code != 0 {
		t.Fatalf("apply stdin: %+v", r)
	}
	if got := f.last(); got != `PUT /api/v1/config {"base_revision":9,"comment":"","config":{"routes":[]}}` {
		t.Fatalf("apply stdin request: %s", got)
	}

	r = run(t, "", nil, "--socket", sock, "config", "validate", "-f", cfgFile)
	if r.code != 0 || r.stdout != "configuration is valid\nkernel changes (2):\n  add service tcp/192.0.2.100:80 (wlc)\n  add destination 192.0.2.11:80 to tcp/192.0.2.100:80 (dr, weight 1)\n" {
		t.Fatalf("validate: %+v", r)
	}
	f.answers["POST /api/v1/config/validate"] = answer{body: api.ValidateResponse{Valid: false,
		Errors: []api.Problem{{Path: "virtual_services[web].real_servers[2].port", Message: "70000 is not a port (1-65535)"}}}}
	r = run(t, "", nil, "--socket", sock, "config", "validate", "-f", cfgFile)
	if r.code != ExitInvalid || r.stdout != "configuration is INVALID (1 problems):\n  virtual_services[web].real_servers[2].port: 70000 is not a port (1-65535)\n" {
		t.Fatalf("invalid: %+v", r)
	}
	if r := run(t, "", nil, "--socket", sock, "config", "validate", "-f", cfgFile, "--json"); r.code != ExitInvalid || !strings.Contains(r.stdout, `"valid": false`) {
		t.Fatalf("invalid --json: %+v", r)
	}

	// confirm without N confirms the pending current revision.
	r = run(t, "", nil, "--socket", sock, "config", "confirm")
	if r.code != 0 || r.stdout != "confirmed revision 5 [confirmed]\n" || f.last() != "POST /api/v1/revisions/5/confirm {}" {
		t.Fatalf("confirm: %+v %s", r, f.last())
	}

	os.WriteFile(cfgFile, []byte(`{"schema":2,"revision":3,"config":{}}`), 0o644)
	r = run(t, "", nil, "--socket", sock, "import", cfgFile, "--comment", "restore")
	if r.code != 0 || !strings.Contains(r.stdout, "imported revision 6") ||
		f.last() != `POST /api/v1/import?base_revision=5&comment=restore {"schema":2,"revision":3,"config":{}}` {
		t.Fatalf("import: %+v %s", r, f.last())
	}
	out := filepath.Join(dir, "export.json")
	if r := run(t, "", nil, "--socket", sock, "export", "-o", out); r.code != 0 {
		t.Fatalf("export: %+v", r)
	}
	if data, _ := os.ReadFile(out); !strings.Contains(string(data), `"revision": 5`) {
		t.Fatalf("export file: %s", data)
	}
}

func TestExitCodes(t *testing.T) {
	f := newFake()
	sock := serveUnix(t, f)
	errAnswer := func(code int, msg string) answer {
		return answer{code, api.ErrorBody{Error: msg, Details: []api.Problem{{Path: "virtual_services[web].port", Message: "70000 is not a port"}}}}
	}
	cases := []struct {
		code int
		want int
	}{{422, ExitInvalid}, {409, ExitConflict}, {401, ExitAuth}, {403, ExitAuth}, {429, ExitAuth}, {500, ExitError}}
	for _, c := range cases {
		f.answers["PUT /api/v1/config"] = errAnswer(c.code, "nope")
		r := run(t, "{}", nil, "--socket", sock, "config", "apply", "-f", "-", "--base", "1")
		if r.code != c.want || !strings.Contains(r.stderr, "nope (HTTP") {
			t.Errorf("HTTP %d: exit %d, stderr %q", c.code, r.code, r.stderr)
		}
		if c.code == 422 && !strings.Contains(r.stderr, "virtual_services[web].port: 70000 is not a port") {
			t.Errorf("422 details missing: %q", r.stderr)
		}
		if c.code == 429 && !strings.Contains(r.stderr, "retry after 12s") {
			t.Errorf("429 without Retry-After: %q", r.stderr)
		}
	}
	for _, args := range [][]string{
		{}, {"frobnicate"}, {"config"}, {"config", "explode"}, {"config", "diff", "1"}, {"config", "diff", "a", "b"},
		{"config", "apply"}, {"status", "extra"}, {"--bogus", "status"}, {"--url", "http://lb1", "status"},
	} {
		if r := run(t, "", nil, append([]string{"--socket", sock}, args...)...); r.code != ExitUsage {
			t.Errorf("%q: exit %d (want 2), stderr %q", args, r.code, r.stderr)
		}
	}
	if r := run(t, "", nil, "--socket", filepath.Join(t.TempDir(), "none.sock"), "status"); r.code != ExitError || !strings.Contains(r.stderr, "cannot reach lvsboxd") {
		t.Errorf("no daemon: %+v", r)
	}
	f.answers["GET /api/v1/config"] = answer{body: api.ConfigResponse{Revision: api.RevisionInfo{Number: 5}}}
	if r := run(t, "", nil, "--socket", sock, "config", "confirm"); r.code != ExitConflict || !strings.Contains(r.stderr, "nothing to confirm") {
		t.Errorf("confirm with nothing pending: %+v", r)
	}
	if r := run(t, "", nil, "--socket", sock, "import", "keepalived", "/etc/keepalived/keepalived.conf"); r.code != ExitError || !strings.Contains(r.stderr, "no keepalived converter") {
		t.Errorf("import keepalived without converter: %+v", r)
	}
	if r := run(t, "", nil, "help"); r.code != 0 || !strings.Contains(r.stdout, "exit codes") {
		t.Errorf("help: %+v", r)
	}
}

// TestRemoteTLS talks HTTPS with a token, Basic credentials, --ca and --pin.
func TestRemoteTLS(t *testing.T) {
	f := newFake()
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)

	r := run(t, "", nil, "--url", srv.URL, "--ca", ca, "--token", "lvsb_x", "whoami")
	if r.code != 0 || r.stdout != "olga (role operator, via token ci)\n" || f.authz[len(f.authz)-1] != "Bearer lvsb_x" {
		t.Fatalf("token: %+v %q", r, f.authz)
	}
	r = run(t, "", map[string]string{"LVSBOX_URL": srv.URL, "LVSBOX_USER": "olga", "LVSBOX_PASSWORD": "pw"}, "--insecure", "whoami")
	if r.code != 0 || f.authz[len(f.authz)-1] != "Basic b2xnYTpwdw==" {
		t.Fatalf("basic from env: %+v %q", r, f.authz)
	}
	// The password is read from stdin when not in the environment.
	if r := run(t, "pw\n", nil, "--url", srv.URL, "--insecure", "--user", "olga", "whoami"); r.code != 0 || f.authz[len(f.authz)-1] != "Basic b2xnYTpwdw==" {
		t.Fatalf("basic from stdin: %+v", r)
	}
	if r := run(t, "", nil, "--url", srv.URL, "--token", "x", "whoami"); r.code != ExitError || !strings.Contains(r.stderr, "certificate") {
		t.Fatalf("untrusted certificate accepted: %+v", r)
	}
	pin := tlscert.Fingerprint(srv.Certificate().Raw)
	if r := run(t, "", nil, "--url", srv.URL, "--pin", pin, "--token", "x", "whoami"); r.code != 0 {
		t.Fatalf("pinned: %+v", r)
	}
	if r := run(t, "", nil, "--url", srv.URL, "--pin", strings.Repeat("00:", 31)+"00", "--token", "x", "whoami"); r.code != ExitError || !strings.Contains(r.stderr, "does not match --pin") {
		t.Fatalf("wrong pin: %+v", r)
	}
	r = run(t, "s3cret\n", nil, "--url", srv.URL, "--insecure", "--user", "olga", "login")
	if r.code != 0 || r.stdout != "lvss_abc\n" || !strings.Contains(f.last(), `"password":"s3cret"`) || f.authz[len(f.authz)-1] != "" {
		t.Fatalf("login: %+v %s", r, f.last())
	}
}

func TestLocalHelpers(t *testing.T) {
	r := run(t, "hunter2\n", nil, "hash-password")
	h := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || auth.VerifyPassword(h, "hunter2") != nil {
		t.Fatalf("hash-password: %+v", r)
	}
	r = run(t, "", nil, "token", "new", "ci", "--json")
	var e TokenEntry
	if err := json.Unmarshal([]byte(r.stdout), &e); err != nil || r.code != 0 || e.Name != "ci" || e.Hash != auth.HashToken(e.Token) || !e.Created.Equal(t0) {
		t.Fatalf("token new: %+v %v", r, err)
	}
	r = run(t, "", nil, "token", "new", "ci")
	if r.code != 0 || !strings.Contains(r.stdout, `add to the user's "tokens": {"name":"ci","hash":"sha256:`) {
		t.Fatalf("token new text: %+v", r)
	}
}
