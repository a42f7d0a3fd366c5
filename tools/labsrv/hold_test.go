package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHoldUsesOneConnection(t *testing.T) {
	srv, conns := countingServer(t)
	var out bytes.Buffer
	if err := hold(context.Background(), []string{"-n", "4", "-interval", "1ms", srv.URL + "/x"}, &out); err != nil {
		t.Fatalf("hold: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "conn ") || lines[5] != "summary ok=4 err=0" {
		t.Fatalf("output %q", out.String())
	}
	for _, l := range lines[1:5] {
		if l != "ok a" {
			t.Fatalf("line %q in %q", l, out.String())
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestHoldFailsWhenTheConnectionCloses(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if served.Add(1) == 2 {
			w.Header().Set("Connection", "close") // the server ends the connection
		}
		w.Write([]byte("b\n"))
	}))
	defer srv.Close()
	var out bytes.Buffer
	err := hold(context.Background(), []string{"-n", "5", "-interval", "1ms", srv.URL}, &out)
	if err == nil {
		t.Fatalf("hold succeeded although the connection closed:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "ok b\nerr ") || !strings.HasSuffix(out.String(), "summary ok=1 err=1\n") {
		t.Fatalf("output %q", out.String())
	}
	if n := served.Load(); n != 2 {
		t.Fatalf("%d requests served, want 2 (no reconnect)", n)
	}
}

func TestHoldStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(nameHandler("c"))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- hold(ctx, []string{"-interval", "1ms", srv.URL}, &out) }()
	for !strings.Contains(out.String(), "ok c\nok c\n") {
		select {
		case err := <-done:
			t.Fatalf("hold ended early: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("hold: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "err ") {
		t.Fatalf("output %q", out.String())
	}
}
