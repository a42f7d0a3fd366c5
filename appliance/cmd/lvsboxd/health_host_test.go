package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/healthd"
)

// healthSeed checks two loopback real servers (one answering, one refusing) every
// 100 ms; nothing on the host is changed and no traffic leaves loopback.
func healthSeed(port int) string {
	return fmt.Sprintf(`{
  "virtual_services": [
    {"name": "web", "address": "127.0.0.1", "port": %d, "forwarding": "dr",
     "health_check": {"type": "http", "interval": "100ms", "timeout": "80ms", "rise": 2, "fall": 2, "http": {"path": "/health"}},
     "sorry_server": {"address": "127.0.0.9"},
     "real_servers": [{"address": "127.0.0.1", "weight": 2}, {"address": "127.0.0.2"}]}
  ]
}`, port)
}

// healthDoc is the part of /api/v1/status this test reads.
type healthDoc struct {
	Health *healthd.Status `json:"health"`
}

func (d *daemon) health(t *testing.T) *healthd.Status {
	t.Helper()
	resp, err := http.Get(d.url("/api/v1/status"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc healthDoc
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Health
}

// waitHealth polls the status until cond holds (10 s).
func (d *daemon) waitHealth(t *testing.T, what string, cond func(*healthd.Status) bool) *healthd.Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h := d.health(t)
		if h != nil && cond(h) {
			return h
		}
		if time.Now().After(deadline) {
			js, _ := json.MarshalIndent(h, "", "  ")
			t.Fatalf("timed out waiting for %s; health:\n%s", what, js)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func realServer(h *healthd.Status, addr string) healthd.RealServerStatus {
	for _, s := range h.Services {
		for _, rs := range s.RealServers {
			if rs.Address == addr {
				return rs
			}
		}
	}
	return healthd.RealServerStatus{}
}

// TestDaemonHealthChecks runs lvsboxd on the host (no IPVS: verdicts are computed
// but nothing is programmed) with HTTP checks of loopback servers: the status, the
// CLI table, /metrics and the log show the checks going up and down with their
// reasons.
func TestDaemonHealthChecks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok\n")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	sock := filepath.Join(t.TempDir(), "api.sock")
	d := start(t, "--data", filepath.Join(t.TempDir(), "data"), "--seed", writeSeed(t, healthSeed(port)), "--socket", sock)
	rs1 := fmt.Sprintf("127.0.0.1:%d", port)
	rs2 := fmt.Sprintf("127.0.0.2:%d", port)

	h := d.waitHealth(t, "127.0.0.1 up and 127.0.0.2 checked", func(h *healthd.Status) bool {
		a, b := realServer(h, "127.0.0.1"), realServer(h, "127.0.0.2")
		return a.State == "up" && b.Check != nil && b.Check.Checks >= 2
	})
	a, b := realServer(h, "127.0.0.1"), realServer(h, "127.0.0.2")
	if !a.InTable || a.Weight != 2 || a.Check.Target != rs1 || !strings.HasPrefix(a.Check.LastResult, "HTTP 200 from "+rs1) {
		t.Errorf("up server: %+v %+v", a, a.Check)
	}
	if b.State != "down" || b.InTable || b.Check.LastResult != "connect: connection refused" || b.Check.LastOK {
		t.Errorf("refusing server: %+v %+v", b, b.Check)
	}
	web := h.Services[0]
	if h.Probes != 2 || h.CheckedRealServers != 2 || !web.QuorumUp || web.UpWeight != 2 || web.Sorry == nil || web.Sorry.Active {
		t.Errorf("service: %+v (probes %d)", web, h.Probes)
	}

	// The CLI renders the table.
	code, out, errOut := lvsbox(t, nil, "--socket", sock, "status")
	tableRow := regexp.MustCompile(`(?m)^\s+127\.0\.0\.2:\d+\s+DOWN\s+no\s+http\s+\S+\s+\d+\s+connect: connection refused$`)
	if code != 0 || !strings.Contains(out, "health: 2 probes for 2 checked real servers") || !tableRow.MatchString(out) {
		t.Errorf("lvsbox status: %d %q\n%s", code, errOut, out)
	}

	// Prometheus metrics on the plain listener.
	resp, err := http.Get(d.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf(`lvsbox_health_check_up{real_server=%q,service="web",target=%q,type="http"} 1`, rs1, rs1),
		fmt.Sprintf(`lvsbox_health_check_up{real_server=%q,service="web",target=%q,type="http"} 0`, rs2, rs2),
		`lvsbox_health_service_quorum_up{service="web"} 1`,
		`lvsbox_health_service_up_weight{service="web"} 2`,
		`lvsbox_health_probes{type="http"} 2`,
		`lvsbox_health_checks_total{result="fail",type="http"}`,
		`lvsbox_health_scheduler_lateness_seconds_bucket`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The answering server stops: down after fall rounds, the sorry server takes
	// over, and the log says why.
	stopped := time.Now()
	srv.Close()
	h = d.waitHealth(t, "127.0.0.1 down", func(h *healthd.Status) bool { return realServer(h, "127.0.0.1").State == "down" })
	t.Logf("down %v after the server stopped (interval 100ms, fall 2, timeout 80ms)", time.Since(stopped).Round(time.Millisecond))
	if web := h.Services[0]; web.QuorumUp || !web.Sorry.Active || realServer(h, "127.0.0.1").InTable {
		t.Errorf("after the server stopped: %+v", web)
	}
	rs := realServer(h, "127.0.0.1")
	if n := len(rs.Check.History); n < 2 || rs.Check.History[n-1].State != "down" ||
		rs.Check.History[n-1].Reason != "2 failed checks, last: connect: connection refused" || rs.Check.Flaps != 2 {
		t.Errorf("history %+v flaps %d", rs.Check.History, rs.Check.Flaps)
	}
	d.stop(t)
	log := d.log()
	for _, want := range []string{
		`msg="health: down" type=http target=` + rs1 + ` reason="2 failed checks, last: connect: connection refused"`,
		`msg="health: up" type=http target=` + rs1,
		`msg="health: quorum lost: up weight 0 < 1 (quorum 1 - hysteresis 0)" service=web event=quorum-lost`,
		`msg="health: sorry server on`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}
