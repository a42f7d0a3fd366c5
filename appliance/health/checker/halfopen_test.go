package checker

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/halfopen"
	"github.com/lvsbox/lvsbox/tools/testenv"
)

// TestHalfOpen: a half-open tcp check passes on a listener without the application
// seeing a connection, is refused by a closed port, and times out on a listener
// whose backlog is full (the server drops the SYN, as it would a connect's).
func TestHalfOpen(t *testing.T) {
	testenv.Need(t, os.Geteuid() == 0, "half-open checks need raw sockets (root)")
	p := halfopen.New(nil)
	defer p.Close()
	spec := health.Spec{Type: health.TypeTCP, Timeout: 300 * time.Millisecond, TCP: &health.TCPSpec{HalfOpen: true}}
	check := func(server netip.AddrPort) health.Result {
		t.Helper()
		c, err := New(spec, server, Options{HalfOpen: p})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(*synChecker); !ok {
			t.Fatalf("checker %T, want the half-open one", c)
		}
		return c.Check(context.Background())
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want(t, check(addrPort(t, l.Addr())), true, "SYN-ACK from "+l.Addr().String()+" in ", " ms")
	l.(*net.TCPListener).SetDeadline(time.Now().Add(100 * time.Millisecond))
	if c, err := l.Accept(); err == nil {
		c.Close()
		t.Error("the half-open check reached the application")
	}

	r := check(closedPort(t))
	if r.OK || r.Text != "connect: connection refused" {
		t.Errorf("closed port: %+v", r)
	}
	r = check(fullListener(t))
	if r.OK || r.Text != "timeout after 300ms" {
		t.Errorf("full backlog: %+v", r)
	}

	// Without the option the same spec type does a full connect.
	spec.TCP = nil
	c, err := New(spec, addrPort(t, l.Addr()), Options{HalfOpen: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*tcpChecker); !ok {
		t.Errorf("checker %T without half_open, want the connect one", c)
	}
}
