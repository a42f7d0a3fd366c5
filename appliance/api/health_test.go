package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/healthd"
)

type fixedHealth healthd.Status

func (f fixedHealth) Status() healthd.Status { return healthd.Status(f) }

// TestStatusHealthAndMetrics: the status carries the health part when a source
// is set (and omits it otherwise); /metrics is served on the plain listener and
// with a viewer's credentials on HTTPS, and answers 404 without a registry.
func TestStatusHealthAndMetrics(t *testing.T) {
	s := server(readyStatus())
	_, _, body := get(t, s.Handler(), "/api/v1/status")
	if strings.Contains(body, `"health"`) {
		t.Errorf("health present without a source: %s", body)
	}
	if code, _, _ := get(t, s.Handler(), "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics without a registry: %d", code)
	}
	s.Health = fixedHealth{Probes: 1, CheckedRealServers: 2, Services: []healthd.ServiceStatus{{Name: "web", QuorumUp: true,
		RealServers: []healthd.RealServerStatus{{Address: "198.51.100.11", Port: 80, State: "down", Error: "check cannot run: x"}}}}}
	s.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("lvsbox_health_probes 1\n")) })
	_, _, body = get(t, s.Handler(), "/api/v1/status")
	var doc Document
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Health == nil || doc.Health.Probes != 1 || doc.Health.Services[0].RealServers[0].State != "down" {
		t.Errorf("health in the status: %+v", doc.Health)
	}
	if code, _, body := get(t, s.Handler(), "/metrics"); code != 200 || body != "lvsbox_health_probes 1\n" {
		t.Errorf("plain /metrics: %d %q", code, body)
	}
	e := newEnv(t)
	e.srv.Metrics = s.Metrics
	if r := e.do("GET", "/metrics", "", nil); r.code != http.StatusUnauthorized {
		t.Errorf("HTTPS /metrics without credentials: %d", r.code)
	}
	if r := e.do("GET", "/metrics", creds["viewer"], nil); r.code != 200 {
		t.Errorf("HTTPS /metrics as viewer: %d %s", r.code, r.body)
	}
}
