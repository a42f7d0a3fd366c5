package tlscert

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"
)

func parse(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnsureGeneratesOnceWithPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	gen, err := Ensure(dir, Options{Hosts: []string{"lb1", "localhost", "127.0.0.1", "::1", "lb1", ""}, Now: func() time.Time { return now }})
	if err != nil || !gen {
		t.Fatalf("Ensure = %v, %v", gen, err)
	}
	for name, mode := range map[string]os.FileMode{KeyFile: 0o600, CertFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v", name, fi, err)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode())
	}
	c := parse(t, filepath.Join(dir, CertFile))
	if _, ok := c.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Fatalf("key type %T", c.PublicKey)
	}
	if !slices.Equal(c.DNSNames, []string{"lb1", "localhost"}) || len(c.IPAddresses) != 2 || c.Subject.CommonName != "lb1" {
		t.Fatalf("names %v %v %q", c.DNSNames, c.IPAddresses, c.Subject.CommonName)
	}
	if !c.NotBefore.Equal(now.Add(-time.Hour)) || c.NotAfter.Before(now.Add(9*365*24*time.Hour)) {
		t.Fatalf("validity %v - %v", c.NotBefore, c.NotAfter)
	}
	before, _ := os.ReadFile(filepath.Join(dir, CertFile))
	gen, err = Ensure(dir, Options{})
	after, _ := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil || gen || string(before) != string(after) {
		t.Fatalf("second Ensure regenerated: %v %v", gen, err)
	}
}

func TestEnsureRefusesHalfAPair(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, CertFile), []byte("operator's"), 0o644)
	if _, err := Ensure(dir, Options{}); err == nil {
		t.Fatal("cert without key accepted")
	}
	if data, _ := os.ReadFile(filepath.Join(dir, CertFile)); string(data) != "operator's" {
		t.Fatal("operator's file overwritten")
	}
}

func TestFingerprint(t *testing.T) {
	fp := Fingerprint([]byte("x"))
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(fp) || fp[:5] != "2D:71" {
		t.Fatalf("fingerprint %s", fp)
	}
}

func TestLoaderReloadsReplacement(t *testing.T) {
	dir := t.TempDir()
	if _, err := Ensure(dir, Options{Hosts: []string{"old"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	var reloaded []string
	var failed []error
	l := &Loader{Dir: dir, Now: func() time.Time { return now }, CheckEvery: 5 * time.Second,
		Reloaded: func(fp string) { reloaded = append(reloaded, fp) }, Failed: func(err error) { failed = append(failed, err) }}
	c1, err := l.Certificate()
	if err != nil {
		t.Fatal(err)
	}

	// The operator drops in a new pair.
	cert, key, err := Generate(Options{Hosts: []string{"new.example"}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, KeyFile), key, 0o600)
	os.WriteFile(filepath.Join(dir, CertFile), cert, 0o644)
	future := time.Now().Add(time.Second)
	os.Chtimes(filepath.Join(dir, CertFile), future, future)

	if c, _ := l.Certificate(); c != c1 {
		t.Fatal("reloaded before CheckEvery passed")
	}
	now = now.Add(5 * time.Second)
	c2, err := l.Certificate()
	if err != nil || c2 == c1 || len(reloaded) != 1 || reloaded[0] != Fingerprint(c2.Certificate[0]) {
		t.Fatalf("not reloaded: %v %v", reloaded, err)
	}
	leaf, _ := x509.ParseCertificate(c2.Certificate[0])
	if leaf.DNSNames[0] != "new.example" {
		t.Fatalf("serving %v", leaf.DNSNames)
	}

	// A broken replacement is reported once and the previous pair stays.
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("garbage"), 0o600)
	now = now.Add(5 * time.Second)
	c3, err := l.Certificate()
	if err != nil || c3 != c2 || len(failed) != 1 {
		t.Fatalf("broken replacement: %v failed=%v", err, failed)
	}
	now = now.Add(5 * time.Second)
	l.Certificate()
	if len(failed) != 1 {
		t.Fatal("failure reported twice")
	}
}

func TestHandshakeWithGeneratedCertAsCA(t *testing.T) {
	dir := t.TempDir()
	if _, err := Ensure(dir, Options{Hosts: []string{"localhost", "127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	l := &Loader{Dir: dir}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: l.GetCertificate, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pemData, _ := os.ReadFile(filepath.Join(dir, CertFile))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("client trusting the cert: %v", err)
	}
	c.Close()
	_, err = tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "127.0.0.1"})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("client without the cert: %v", err)
	}
}
