package checker

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/health"
)

const page = "<html>lvsbox backend rs1 OK</html>"

func pageDigest() string {
	s := md5.Sum([]byte(page))
	return hex.EncodeToString(s[:])
}

// backend serves a few paths and records the Host header and method it saw.
type backend struct {
	mu     sync.Mutex
	host   string
	method string
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.host, b.method = r.Host, r.Method
	b.mu.Unlock()
	switch r.URL.Path {
	case "/":
		fmt.Fprint(w, page)
	case "/down":
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "maintenance")
	case "/moved":
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

func (b *backend) seen() (string, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.host, b.method
}

func TestHTTP(t *testing.T) {
	be := &backend{}
	srv := httptest.NewServer(be)
	defer srv.Close()
	ap := addrPort(t, srv.Listener.Addr())
	addr := ap.String()
	cases := []struct {
		name  string
		h     health.HTTPSpec
		ok    bool
		parts []string
	}{
		{"200", health.HTTPSpec{}, true, []string{"HTTP 200 from " + addr + " in "}},
		{"503", health.HTTPSpec{Path: "/down"}, false, []string{"HTTP 503 from " + addr + " in ", " ms"}},
		{"503 expected", health.HTTPSpec{Path: "/down", ExpectStatus: []string{"200", "500-503"}}, true, []string{"HTTP 503"}},
		{"redirect not followed", health.HTTPSpec{Path: "/moved"}, false, []string{"HTTP 302", "redirect to /elsewhere, not followed"}},
		{"redirect expected", health.HTTPSpec{Path: "/moved", ExpectStatus: []string{"301,302"}}, true, []string{"HTTP 302"}},
		{"contains", health.HTTPSpec{BodyContains: "rs1 OK"}, true, nil},
		{"contains fails", health.HTTPSpec{BodyContains: "rs2"}, false, []string{`body does not contain "rs2"`}},
		{"regex", health.HTTPSpec{BodyRegex: `rs[0-9]+ OK`}, true, nil},
		{"regex fails", health.HTTPSpec{BodyRegex: `^OK$`}, false, []string{"body does not match /^OK$/"}},
		{"digest", health.HTTPSpec{BodyDigest: pageDigest()}, true, nil},
		{"digest fails", health.HTTPSpec{BodyDigest: strings.Repeat("0", 32)}, false, []string{"body digest " + pageDigest() + ", expected 000"}},
		{"404", health.HTTPSpec{Path: "/nope"}, false, []string{"HTTP 404"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.h
			r := run(t, health.Spec{Type: health.TypeHTTP, HTTP: &h}, ap)
			want(t, r, c.ok, c.parts...)
		})
	}
}

func TestHTTPHostAndMethod(t *testing.T) {
	be := &backend{}
	srv := httptest.NewServer(be)
	defer srv.Close()
	r := run(t, health.Spec{Type: health.TypeHTTP, HTTP: &health.HTTPSpec{Method: "HEAD", Host: "www.example.test"}}, addrPort(t, srv.Listener.Addr()))
	want(t, r, true, "HTTP 200")
	host, method := be.seen()
	if host != "www.example.test" || method != "HEAD" {
		t.Errorf("server saw Host %q method %q, want www.example.test HEAD", host, method)
	}
}

func TestHTTPRefused(t *testing.T) {
	r := run(t, health.Spec{Type: health.TypeHTTP}, closedPort(t))
	want(t, r, false)
	if r.Text != "connect: connection refused" {
		t.Errorf("text %q", r.Text)
	}
}

func TestHTTPTimeoutWaitingForResponse(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	r := run(t, health.Spec{Type: health.TypeHTTP, Timeout: 150_000_000}, addrPort(t, srv.Listener.Addr()))
	want(t, r, false)
	if r.Text != "timeout after 150ms waiting for response" {
		t.Errorf("text %q", r.Text)
	}
}

func TestHTTPConnectTimeout(t *testing.T) {
	r := run(t, health.Spec{Type: health.TypeHTTP, Timeout: 150_000_000}, fullListener(t))
	want(t, r, false)
	if r.Text != "timeout after 150ms" {
		t.Errorf("text %q", r.Text)
	}
}

func TestGenhash(t *testing.T) {
	srv := httptest.NewServer(&backend{})
	defer srv.Close()
	code, digest, err := Genhash(t.Context(), health.Spec{Type: health.TypeHTTP, HTTP: &health.HTTPSpec{BodyContains: "ignored"}}, addrPort(t, srv.Listener.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	if code != 200 || digest != pageDigest() {
		t.Errorf("genhash = %d %s, want 200 %s", code, digest, pageDigest())
	}
	got, err := BodyDigest(strings.NewReader(page))
	if err != nil || got != pageDigest() {
		t.Errorf("BodyDigest = %s, %v", got, err)
	}
	if _, _, err := Genhash(t.Context(), health.Spec{Type: health.TypeHTTP}, closedPort(t)); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("genhash of a closed port: %v", err)
	}
	if _, _, err := Genhash(t.Context(), health.Spec{Type: health.TypeTCP}, netip.MustParseAddrPort("127.0.0.1:1")); err == nil {
		t.Error("genhash of a tcp check succeeded")
	}
}
