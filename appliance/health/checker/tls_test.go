package checker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lvsbox test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// issue returns a leaf certificate and key (PEM) for names and IPs.
func (ca *testCA) issue(t *testing.T, serial int64, usage x509.ExtKeyUsage, names []string, ips ...net.IP) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "leaf"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     names,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

func TestHTTPS(t *testing.T) {
	ca := newCA(t)
	certPEM, keyPEM := ca.issue(t, 2, x509.ExtKeyUsageServerAuth, []string{"backend.test"})
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	clientCert, clientKey := ca.issue(t, 3, x509.ExtKeyUsageClientAuth, []string{"lvsbox"})
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)

	var mu sync.Mutex
	var sni string
	var clientSeen bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		clientSeen = len(r.TLS.PeerCertificates) > 0
		mu.Unlock()
		w.Write([]byte("secure OK"))
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			sni = h.ServerName
			mu.Unlock()
			return nil, nil
		},
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	ap := addrPort(t, srv.Listener.Addr())

	// The client certificate also as files, to cover the path form.
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certFile, []byte(clientCert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(clientKey), 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		h       health.HTTPSpec
		ok      bool
		text    string
		sni     string
		client  bool
		checkCl bool
	}{
		{name: "no verify", h: health.HTTPSpec{BodyContains: "secure"}, ok: true, text: "HTTP 200"},
		{name: "verify with CA and SNI", h: health.HTTPSpec{Verify: true, CA: ca.pem, SNI: "backend.test"}, ok: true, text: "HTTP 200", sni: "backend.test"},
		{name: "SNI from Host", h: health.HTTPSpec{Verify: true, CA: ca.pem, Host: "backend.test:443"}, ok: true, text: "HTTP 200", sni: "backend.test"},
		{name: "verify unknown authority", h: health.HTTPSpec{Verify: true, SNI: "backend.test"}, text: "tls: x509: certificate signed by unknown authority"},
		{name: "verify wrong name", h: health.HTTPSpec{Verify: true, CA: ca.pem, SNI: "other.test"}, text: "tls: x509: certificate is valid for backend.test, not other.test"},
		{name: "client cert PEM", h: health.HTTPSpec{ClientCert: clientCert, ClientKey: clientKey}, ok: true, text: "HTTP 200", client: true, checkCl: true},
		{name: "client cert files", h: health.HTTPSpec{ClientCert: certFile, ClientKey: keyFile}, ok: true, text: "HTTP 200", client: true, checkCl: true},
		{name: "no client cert", h: health.HTTPSpec{}, ok: true, text: "HTTP 200", client: false, checkCl: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.h
			r := run(t, health.Spec{Type: health.TypeHTTPS, HTTP: &h}, ap)
			want(t, r, c.ok, c.text)
			mu.Lock()
			defer mu.Unlock()
			if c.sni != "" && sni != c.sni {
				t.Errorf("server saw SNI %q, want %q", sni, c.sni)
			}
			if c.checkCl && clientSeen != c.client {
				t.Errorf("server saw a client certificate: %v, want %v", clientSeen, c.client)
			}
		})
	}
}

func TestHTTPSAgainstPlainHTTP(t *testing.T) {
	srv := httptest.NewServer(&backend{})
	defer srv.Close()
	r := run(t, health.Spec{Type: health.TypeHTTPS}, addrPort(t, srv.Listener.Addr()))
	want(t, r, false)
	if r.Text != "tls: server did not answer with TLS" {
		t.Errorf("text %q", r.Text)
	}
}

func TestHTTPSHandshakeTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent until the listener closes
		}
	}()
	r := run(t, health.Spec{Type: health.TypeHTTPS, Timeout: 150 * time.Millisecond}, addrPort(t, l.Addr()))
	want(t, r, false)
	if r.Text != "timeout after 150ms in TLS handshake" {
		t.Errorf("text %q", r.Text)
	}
}
