package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/testenv"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

func TestNameHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	nameHandler("rs1").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/anything", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "rs1\n" {
		t.Fatalf("got %d %q, want 200 %q", rec.Code, rec.Body.String(), "rs1\n")
	}
}

func TestGetUsesANewConnectionPerRequest(t *testing.T) {
	srv, conns := countingServer(t)
	var out bytes.Buffer
	if err := get(context.Background(), []string{"-n", "5", srv.URL}, &out); err != nil {
		t.Fatalf("get: %v\n%s", err, out.String())
	}
	want := strings.Repeat("ok a\n", 5) + "summary ok=5 err=0\n"
	if out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
	if n := conns.Load(); n != 5 {
		t.Fatalf("%d connections, want 5", n)
	}
}

func TestGetReportsFailures(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	var out bytes.Buffer
	err := get(context.Background(), []string{"-n", "2", srv.URL}, &out)
	if err == nil {
		t.Fatalf("get succeeded against a 404 server:\n%s", out.String())
	}
	if !strings.HasSuffix(out.String(), "summary ok=0 err=2\n") || !strings.Contains(out.String(), "err status 404") {
		t.Fatalf("output %q", out.String())
	}
}

func TestGetLoopStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(nameHandler("b"))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- get(ctx, []string{"-n", "0", "-interval", "1ms", srv.URL}, &out) }()
	for !strings.Contains(out.String(), "ok b\nok b\n") {
		select {
		case err := <-done:
			t.Fatalf("loop ended early: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("loop: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "summary ok=") || strings.Contains(out.String(), "err ") {
		t.Fatalf("output %q", out.String())
	}
}

func TestEchoRoundTrip(t *testing.T) {
	req, err := echoRequest(7, 3)
	if err != nil {
		t.Fatal(err)
	}
	reply := icmp.Message{Type: ipv4.ICMPTypeEchoReply, Body: &icmp.Echo{ID: 7, Seq: 3}}
	b, err := reply.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !isEchoReply(b, 7, 3) || isEchoReply(b, 7, 4) || isEchoReply(b, 8, 3) || isEchoReply(req, 7, 3) {
		t.Fatal("isEchoReply accepts the wrong message or rejects the right one")
	}
}

func TestPingLoopback(t *testing.T) {
	testenv.Need(t, os.Geteuid() == 0, "needs root for a raw ICMP socket")
	var out bytes.Buffer
	if err := ping(context.Background(), []string{"-c", "1", "127.0.0.1"}, &out); err != nil {
		t.Fatalf("ping: %v\n%s", err, out.String())
	}
}

func TestRunUsage(t *testing.T) {
	if err := run(nil, &bytes.Buffer{}); err != errUsage {
		t.Fatalf("run(): %v, want usage", err)
	}
	if err := run([]string{"nope"}, &bytes.Buffer{}); err != errUsage {
		t.Fatalf("run(nope): %v, want usage", err)
	}
}

// countingServer serves nameHandler("a") and counts the connections it accepts.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	conns := new(atomic.Int32)
	srv := httptest.NewUnstartedServer(nameHandler("a"))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, conns
}
