package checker

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// MaxBody is how much of a response body body_contains and body_regex look at;
// body_digest hashes the whole body.
const MaxBody = 1 << 20

// httpChecker sends one request per attempt on a fresh connection (HTTP/1.1 with
// "Connection: close", no proxy, redirects never followed) and judges status and
// body. It uses net/http's request writer and response parser directly on the
// connection, without a Transport: no connection pool, no per-request goroutines,
// and it knows which phase an error happened in.
type httpChecker struct {
	base
	req    *http.Request // read-only template, written once per attempt
	tls    *tls.Config   // https only
	status health.StatusSet
	re     *regexp.Regexp
}

func newHTTP(b base) (*httpChecker, error) {
	h := b.spec.HTTP
	status, err := health.ParseStatusSet(h.ExpectStatus)
	if err != nil {
		return nil, fmt.Errorf("health: http.expect_status: %w", err)
	}
	c := &httpChecker{base: b, status: status}
	if h.BodyRegex != "" {
		if c.re, err = regexp.Compile(h.BodyRegex); err != nil {
			return nil, fmt.Errorf("health: http.body_regex: %w", err)
		}
	}
	scheme := "http"
	if b.spec.Type == health.TypeHTTPS {
		scheme = "https"
		if c.tls, err = tlsConfig(h); err != nil {
			return nil, err
		}
	}
	c.req, err = http.NewRequest(h.Method, scheme+"://"+b.addr+h.Path, nil)
	if err != nil {
		return nil, fmt.Errorf("health: http.path: %w", err)
	}
	if h.Host != "" {
		c.req.Host = h.Host
	}
	c.req.Close = true
	c.req.Header.Set("User-Agent", "lvsbox-health")
	return c, nil
}

func tlsConfig(h *health.HTTPSpec) (*tls.Config, error) {
	// Without verify (keepalived's SSL_GET behaviour) any certificate is accepted.
	cfg := &tls.Config{InsecureSkipVerify: !h.Verify}
	cfg.ServerName = h.SNI
	if cfg.ServerName == "" && h.Host != "" {
		host := h.Host
		if hp, _, err := net.SplitHostPort(host); err == nil {
			host = hp
		}
		cfg.ServerName = host
	}
	if h.CA != "" {
		pem, err := pemOrFile(h.CA)
		if err != nil {
			return nil, fmt.Errorf("health: http.ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("health: http.ca: no PEM certificate found")
		}
		cfg.RootCAs = pool
	}
	if h.ClientCert != "" {
		certPEM, err := pemOrFile(h.ClientCert)
		if err != nil {
			return nil, fmt.Errorf("health: http.client_cert: %w", err)
		}
		keyPEM, err := pemOrFile(h.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("health: http.client_key: %w", err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("health: http.client_cert: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// pemOrFile returns s if it holds PEM text, else the content of the file s names.
func pemOrFile(s string) ([]byte, error) {
	if strings.Contains(s, "-----BEGIN") {
		return []byte(s), nil
	}
	return os.ReadFile(s)
}

// response is what one fetch saw.
type response struct {
	code     int
	location string
	body     []byte // at most MaxBody bytes, only when a body rule needs it
	digest   string // MD5 hex of the whole body, only when body_digest is set
}

// fetch runs one request. On error, text is the operator text of the failure.
func (c *httpChecker) fetch(ctx context.Context, wantBody, wantDigest bool) (response, string, error) {
	timeout := c.spec.Timeout
	conn, err := c.dialer("tcp").DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return response{}, describe(err, "connect", timeout), err
	}
	defer conn.Close()
	defer watch(ctx, conn)()
	if c.tls != nil {
		tc := tls.Client(conn, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return response{}, describeHTTP(err, "in TLS handshake", timeout), err
		}
		conn = tc
	}
	if err := c.req.Write(conn); err != nil {
		return response{}, describe(err, "sending request", timeout), err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 4096), c.req)
	if err != nil {
		return response{}, describeHTTP(err, "waiting for response", timeout), err
	}
	defer resp.Body.Close()
	r := response{code: resp.StatusCode, location: resp.Header.Get("Location")}
	if !wantBody && !wantDigest {
		return r, "", nil
	}
	keep := &capBuffer{max: MaxBody}
	var w io.Writer = keep
	var src io.Reader = resp.Body
	sum := md5.New()
	if wantDigest {
		w = io.MultiWriter(sum, keep)
	} else {
		src = io.LimitReader(resp.Body, MaxBody)
	}
	if _, err := io.Copy(w, src); err != nil {
		return r, describe(err, "reading body", timeout), err
	}
	r.body = keep.Bytes()
	if wantDigest {
		r.digest = hex.EncodeToString(sum.Sum(nil))
	}
	return r, "", nil
}

func describeHTTP(err error, phase string, timeout time.Duration) string {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return "tls: " + cve.Err.Error()
	}
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) {
		return "tls: server did not answer with TLS"
	}
	if msg := err.Error(); !isTimeout(err) && strings.HasPrefix(msg, "tls: ") {
		return err.Error()
	}
	return describe(err, phase, timeout)
}

func (c *httpChecker) Check(ctx context.Context) health.Result {
	ctx, cancel, start := c.attempt(ctx)
	defer cancel()
	h := c.spec.HTTP
	r, text, err := c.fetch(ctx, h.BodyContains != "" || c.re != nil, h.BodyDigest != "")
	if err != nil {
		return fail(start, "%s", text)
	}
	lat := time.Since(start)
	head := fmt.Sprintf("HTTP %d from %s in %s", r.code, c.addr, health.Millis(lat))
	res := health.Result{Latency: lat, Text: head}
	switch {
	case !c.status.Contains(r.code):
		if r.location != "" && r.code >= 300 && r.code < 400 {
			res.Text += " (redirect to " + r.location + ", not followed)"
		}
	case h.BodyContains != "" && !bytes.Contains(r.body, []byte(h.BodyContains)):
		res.Text += ": body does not contain " + quote(h.BodyContains)
	case c.re != nil && !c.re.Match(r.body):
		res.Text += ": body does not match /" + h.BodyRegex + "/"
	case h.BodyDigest != "" && !strings.EqualFold(r.digest, h.BodyDigest):
		res.Text += ": body digest " + r.digest + ", expected " + strings.ToLower(h.BodyDigest)
	default:
		res.OK = true
	}
	return res
}

// capBuffer keeps the first max bytes written and discards the rest.
type capBuffer struct {
	bytes.Buffer
	max int
}

func (b *capBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}

// BodyDigest returns the MD5 of everything r yields, in lower-case hex: the value
// keepalived's genhash prints and body_digest expects.
func BodyDigest(r io.Reader) (string, error) {
	sum := md5.New()
	if _, err := io.Copy(sum, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// Genhash fetches what an http or https check of spec would fetch from the real
// server at server (any status, redirects not followed) and returns the status code
// and the body's digest, for filling in body_digest.
func Genhash(ctx context.Context, spec health.Spec, server netip.AddrPort) (int, string, error) {
	if spec.Type != health.TypeHTTP && spec.Type != health.TypeHTTPS {
		return 0, "", fmt.Errorf("health: genhash needs an http or https check, not %q", spec.Type)
	}
	if spec.HTTP != nil {
		h := *spec.HTTP
		h.BodyContains, h.BodyRegex, h.BodyDigest = "", "", ""
		if h.Method == "HEAD" {
			h.Method = "GET"
		}
		spec.HTTP = &h
	}
	ck, err := New(spec, server, Options{})
	if err != nil {
		return 0, "", err
	}
	c := ck.(*httpChecker)
	ctx, cancel, _ := c.attempt(ctx)
	defer cancel()
	r, text, err := c.fetch(ctx, false, true)
	if err != nil {
		return 0, "", fmt.Errorf("health: genhash %s: %s", c.req.URL, text)
	}
	return r.code, r.digest, nil
}
