package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/tlscert"
)

func TestListenUnixModeAndStaleSocket(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	path := filepath.Join(dir, "api.sock")
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v %v", fi.Mode(), err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// A live daemon on the socket: refused.
	if _, err := ListenUnix(path); err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Fatalf("second listener: %v", err)
	}
	ln.Close() // the file stays behind, as after a crash
	if _, err := os.Stat(path); err != nil {
		t.Fatal("socket file vanished")
	}
	ln2, err := ListenUnix(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln2.Close()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
	// Not a socket: refused, untouched.
	plain := filepath.Join(dir, "file")
	os.WriteFile(plain, []byte("x"), 0o644)
	if _, err := ListenUnix(plain); err == nil {
		t.Fatal("regular file replaced")
	}
}

// TestHTTPSWithGeneratedCertificate runs RunTLS with a tlscert pair and talks to it
// as a client that trusts that certificate.
func TestHTTPSWithGeneratedCertificate(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	if _, err := tlscert.Ensure(dir, tlscert.Options{Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	loader := &tlscert.Loader{Dir: dir}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.RunTLS(ctx, ln, loader.GetCertificate) }()
	t.Cleanup(func() { cancel(); <-done })

	pemData, _ := os.ReadFile(filepath.Join(dir, tlscert.CertFile))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	url := "https://" + ln.Addr().String()

	req, _ := http.NewRequest("GET", url+"/api/v1/whoami", nil)
	req.SetBasicAuth("vic", "vic-pw")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var id auth.Identity
	json.NewDecoder(resp.Body).Decode(&id)
	resp.Body.Close()
	if resp.StatusCode != 200 || id.User != "vic" || id.Role != auth.RoleViewer || resp.ProtoMajor != 2 {
		t.Fatalf("whoami over TLS: %d %s %+v", resp.StatusCode, resp.Proto, id)
	}
	resp, err = c.Get(url + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("status without credentials over TLS: %d %s", resp.StatusCode, body)
	}
	if r, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP on the TLS port: %d", r.StatusCode)
		}
	}
}
