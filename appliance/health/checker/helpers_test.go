package checker

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// run builds the checker of spec for server and runs one attempt.
func run(t *testing.T, spec health.Spec, server netip.AddrPort) health.Result {
	t.Helper()
	c, err := New(spec, server, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Check(ctx)
}

// want checks the verdict and that the text contains every part.
func want(t *testing.T, r health.Result, ok bool, parts ...string) {
	t.Helper()
	if r.OK != ok {
		t.Errorf("OK = %v, want %v (text %q)", r.OK, ok, r.Text)
	}
	for _, p := range parts {
		if !strings.Contains(r.Text, p) {
			t.Errorf("text %q does not contain %q", r.Text, p)
		}
	}
	if r.Latency <= 0 {
		t.Errorf("latency %v, want > 0", r.Latency)
	}
}

// addrPort converts a listener address.
func addrPort(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// closedPort returns a loopback TCP and UDP port nothing listens on (best effort:
// the port of a listener just closed).
func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := addrPort(t, l.Addr())
	l.Close()
	return ap
}
