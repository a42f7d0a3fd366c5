package api

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/engine"
)

type fixed engine.Status

func (f *fixed) Status() engine.Status { return engine.Status(*f) }

func readyStatus() *fixed {
	return &fixed{
		Ready:    true,
		Revision: &engine.RevisionInfo{Number: 1, Comment: "seed import", Time: time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)},
		IPVS: engine.IPVSStatus{Available: true, Services: []engine.ServiceStatus{
			{Name: "web", Protocol: "tcp", Address: "192.0.2.100", Port: 80, Scheduler: "wrr", Destinations: []engine.DestinationStatus{
				{Address: "198.51.100.11", Port: 80, Forwarding: "nat", Weight: 3},
				{Address: "198.51.100.12", Port: 80, Forwarding: "nat", Weight: 1},
			}},
			{Name: "v6", Protocol: "tcp", Address: "2001:db8::100", Port: 443, Scheduler: "rr"},
			{Protocol: "udp", Address: "192.0.2.9", Port: 53, Scheduler: "rr"},
		}},
		LastPass: &engine.PassInfo{Writes: 0, Errors: []string{}},
	}
}

func server(st *fixed) *Server {
	return &Server{
		Status:   st,
		Version:  &Version{GitRevision: "abc123", Board: "qemu-x86_64"},
		Hostname: func() (string, error) { return "lb1", nil },
	}
}

func get(t *testing.T, h http.Handler, path string) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Header(), rec.Body.String()
}

func TestStatusJSON(t *testing.T) {
	code, hdr, body := get(t, server(readyStatus()).Handler(), "/api/v1/status")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("code %d, type %q", code, hdr.Get("Content-Type"))
	}
	var doc struct {
		Hostname string `json:"hostname"`
		Ready    bool   `json:"ready"`
		Version  struct {
			GitRevision string `json:"git_revision"`
		} `json:"version"`
		Revision struct {
			Number  int    `json:"number"`
			Comment string `json:"comment"`
		} `json:"revision"`
		IPVS struct {
			Available bool `json:"available"`
			Services  []struct {
				Name        string `json:"name"`
				RealServers []struct {
					Address string `json:"address"`
					Weight  int    `json:"weight"`
				} `json:"real_servers"`
			} `json:"services"`
		} `json:"ipvs"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if doc.Hostname != "lb1" || !doc.Ready || doc.Version.GitRevision != "abc123" || doc.Revision.Number != 1 ||
		doc.Revision.Comment != "seed import" || !doc.IPVS.Available || len(doc.IPVS.Services) != 3 ||
		doc.IPVS.Services[0].RealServers[0].Weight != 3 {
		t.Fatalf("document = %+v\n%s", doc, body)
	}
}

func TestStatusPage(t *testing.T) {
	code, hdr, body := get(t, server(readyStatus()).Handler(), "/")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("code %d type %q", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{"lvsbox lb1", ">ready<", "revision 1 (seed import", "abc123", "tcp 192.0.2.100:80",
		"198.51.100.12:80", "[2001:db8::100]:443", "no real servers", "(not configured)"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if code, _, _ := get(t, server(readyStatus()).Handler(), "/nope"); code != 404 {
		t.Errorf("/nope = %d", code)
	}
}

func TestStatusPageEscapes(t *testing.T) {
	st := readyStatus()
	st.Ready = false
	st.Revision = nil
	st.IPVS = engine.IPVSStatus{Error: "<script>x</script>"}
	_, _, body := get(t, server(st).Handler(), "/")
	if strings.Contains(body, "<script>") || !strings.Contains(body, "not ready") || !strings.Contains(body, "none (empty store)") {
		t.Fatalf("page:\n%s", body)
	}
}

func TestHealthz(t *testing.T) {
	if code, _, body := get(t, server(readyStatus()).Handler(), "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("ready: %d %q", code, body)
	}
	st := readyStatus()
	st.Ready = false
	st.IPVS.Error = "ipvs: IPVS is not available"
	if code, _, body := get(t, server(st).Handler(), "/healthz"); code != 503 || !strings.Contains(body, "not available") {
		t.Fatalf("not ready: %d %q", code, body)
	}
}

func TestLoadVersion(t *testing.T) {
	dir := t.TempDir()
	if v, err := LoadVersion(filepath.Join(dir, "missing.json")); v != nil || err != nil {
		t.Fatalf("missing file: %v %v", v, err)
	}
	p := filepath.Join(dir, "version.json")
	os.WriteFile(p, []byte(`{"git_revision":"deadbeef","go_version":"go1.26.8","kernel_version":"6.1.0-40-amd64","board":"qemu-x86_64"}`), 0o644)
	v, err := LoadVersion(p)
	if err != nil || v.GitRevision != "deadbeef" || v.KernelVersion != "6.1.0-40-amd64" {
		t.Fatalf("version = %+v, %v", v, err)
	}
	os.WriteFile(p, []byte(`{`), 0o644)
	if _, err := LoadVersion(p); err == nil {
		t.Fatal("corrupt version file accepted")
	}
}

func TestRunShutsDownOnCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server(readyStatus()).Run(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok\n" {
		t.Fatalf("healthz over TCP = %q", b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}
