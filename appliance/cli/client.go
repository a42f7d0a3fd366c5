package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/tlscert"
)

// DefaultSocket is where lvsboxd serves the API for local clients.
const DefaultSocket = "/run/lvsbox/api.sock"

// Client talks to one lvsboxd.
type Client struct {
	base  string // http://lvsbox or https://host:port
	http  *http.Client
	authz string // Authorization header value
}

// ClientOptions choose the transport and credentials.
type ClientOptions struct {
	Socket   string // Unix socket path (used when URL is empty)
	URL      string // https://host[:port]
	Token    string // bearer token (API or session)
	User     string // HTTP Basic user (with Password)
	Password string
	CA       string // PEM file of a CA (or the box's own certificate) to trust
	Pin      string // SHA-256 fingerprint of the box's certificate (AA:BB:...)
	Insecure bool   // skip certificate verification
	Timeout  time.Duration
}

// NewClient builds a client.
func NewClient(o ClientOptions) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	c := &Client{}
	switch {
	case o.Token != "":
		c.authz = "Bearer " + o.Token
	case o.User != "":
		req, _ := http.NewRequest("GET", "http://x/", nil)
		req.SetBasicAuth(o.User, o.Password)
		c.authz = req.Header.Get("Authorization")
	}
	if o.URL == "" {
		sock := o.Socket
		if sock == "" {
			sock = DefaultSocket
		}
		c.base = "http://lvsbox"
		c.http = &http.Client{Timeout: o.Timeout, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", sock)
			},
		}}
		return c, nil
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, usageErrorf("--url %q: want https://HOST[:PORT]", o.URL)
	}
	if u.Scheme == "http" {
		return nil, usageErrorf("--url %q: the API is served over HTTPS only (or the local socket)", o.URL)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CA != "" {
		pemData, err := os.ReadFile(o.CA)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", o.CA)
		}
		tc.RootCAs = pool
	}
	if o.Pin != "" {
		want := strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(o.Pin), "sha256:"), "-", ":"))
		tc.InsecureSkipVerify = true // replaced by the pin check below
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no server certificate")
			}
			if got := tlscert.Fingerprint(raw[0]); got != want {
				return fmt.Errorf("server certificate %s does not match --pin %s", got, want)
			}
			return nil
		}
	}
	if o.Insecure {
		tc.InsecureSkipVerify = true
	}
	c.base = strings.TrimSuffix(u.Scheme+"://"+u.Host, "/")
	c.http = &http.Client{Timeout: o.Timeout, Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true,
		Proxy: http.ProxyFromEnvironment}}
	return c, nil
}

// APIError is an error answer of the API.
type APIError struct {
	Status  int
	Message string
	Details []struct {
		Path    string `json:"path"`
		Message string `json:"message"`
	}
	RetryAfter string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (HTTP %d)", e.Message, e.Status)
	if e.RetryAfter != "" {
		fmt.Fprintf(&b, "; retry after %ss", e.RetryAfter)
	}
	for _, d := range e.Details {
		b.WriteString("\n  ")
		if d.Path != "" {
			b.WriteString(d.Path + ": ")
		}
		b.WriteString(d.Message)
	}
	return b.String()
}

// do sends a request; body (if not nil) is JSON-encoded unless it is []byte. The raw
// response body is returned for 2xx answers; others become *APIError.
func (c *Client) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		data, ok := body.([]byte)
		if !ok {
			var err error
			if data, err = json.Marshal(body); err != nil {
				return nil, err
			}
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil || method == http.MethodPost || method == http.MethodPut {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach lvsboxd: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	ae := &APIError{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	var eb struct {
		Error   string `json:"error"`
		Details []struct {
			Path    string `json:"path"`
			Message string `json:"message"`
		} `json:"details"`
	}
	if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
		ae.Message, ae.Details = eb.Error, eb.Details
	} else {
		ae.Message = strings.TrimSpace(string(data))
		if ae.Message == "" {
			ae.Message = resp.Status
		}
	}
	return nil, ae
}

// get fetches path and decodes it into v (when v is not nil); it returns the raw body.
func (c *Client) get(ctx context.Context, path string, v any) ([]byte, error) {
	data, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
	}
	return data, nil
}
