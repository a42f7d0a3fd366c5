package checker

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

func TestTCPPass(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := run(t, health.Spec{Type: health.TypeTCP}, addrPort(t, l.Addr()))
	want(t, r, true, "connected to "+l.Addr().String()+" in ", " ms")
}

func TestTCPRefused(t *testing.T) {
	r := run(t, health.Spec{Type: health.TypeTCP}, closedPort(t))
	want(t, r, false)
	if r.Text != "connect: connection refused" {
		t.Errorf("text %q, want %q", r.Text, "connect: connection refused")
	}
}

// fullListener is a listening socket with a backlog of 0 that never accepts: once
// its queue holds a connection, further SYNs are dropped and connects time out.
func fullListener(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*syscall.SockaddrInet4).Port))
	// Fill the queue.
	for i := 0; i < 4; i++ {
		c, err := net.DialTimeout("tcp", ap.String(), 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
	}
	return ap
}

func TestTCPTimeout(t *testing.T) {
	ap := fullListener(t)
	start := time.Now()
	r := run(t, health.Spec{Type: health.TypeTCP, Timeout: 200 * time.Millisecond}, ap)
	want(t, r, false)
	if r.Text != "timeout after 200ms" {
		t.Errorf("text %q, want %q", r.Text, "timeout after 200ms")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("check took %v with a 200ms timeout", d)
	}
}

func TestTCPSourceAndTargetOverride(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	peer := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		peer <- c.RemoteAddr().String()
		c.Close()
	}()
	lp := addrPort(t, l.Addr())
	spec := health.Spec{
		Type:    health.TypeTCP,
		Address: netip.MustParseAddr("127.0.0.1"),
		Port:    int(lp.Port()),
		Source:  netip.MustParseAddr("127.0.0.9"),
	}
	// The real server's own address and port are elsewhere: the override decides.
	r := run(t, spec, netip.MustParseAddrPort("192.0.2.50:8080"))
	want(t, r, true, lp.String())
	select {
	case p := <-peer:
		if !strings.HasPrefix(p, "127.0.0.9:") {
			t.Errorf("server saw peer %s, want source 127.0.0.9", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server saw no connection")
	}
}

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name   string
		spec   health.Spec
		server string
		msg    string
	}{
		{"no port", health.Spec{Type: health.TypeTCP}, "192.0.2.1:0", "no target port"},
		{"family", health.Spec{Type: health.TypeTCP, Source: netip.MustParseAddr("::1")}, "192.0.2.1:80", "another family"},
		{"bad spec", health.Spec{Type: "ftp"}, "192.0.2.1:21", `"ftp" is not one of`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.spec, netip.MustParseAddrPort(c.server), Options{})
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err %v, want one containing %q", err, c.msg)
			}
		})
	}
}

func TestTCPCancelled(t *testing.T) {
	ap := fullListener(t)
	c, err := New(health.Spec{Type: health.TypeTCP, Timeout: 5 * time.Second}, ap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	r := c.Check(ctx)
	want(t, r, false)
	if r.Text != "cancelled" {
		t.Errorf("text %q, want %q", r.Text, "cancelled")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("check took %v after a cancel at 100ms", d)
	}
}

// TestTCPResets: the checker closes with a RST, and leaves no descriptor open
// whatever the outcome.
func TestTCPResets(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	readErr := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			readErr <- err
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		readErr <- err
	}()
	r := run(t, health.Spec{Type: health.TypeTCP}, addrPort(t, l.Addr()))
	want(t, r, true)
	if err := <-readErr; !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("server read: %v, want connection reset", err)
	}

	full, refused := fullListener(t), closedPort(t)
	fds := openFDs(t)
	for range 50 {
		run(t, health.Spec{Type: health.TypeTCP}, addrPort(t, l.Addr()))
		run(t, health.Spec{Type: health.TypeTCP}, refused)
	}
	run(t, health.Spec{Type: health.TypeTCP, Timeout: 50 * time.Millisecond}, full)
	if n := openFDs(t); n > fds {
		t.Errorf("%d descriptors open after the checks, %d before", n, fds)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

func TestTCPIPv6Source(t *testing.T) {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer l.Close()
	lp := addrPort(t, l.Addr())
	r := run(t, health.Spec{Type: health.TypeTCP, Source: netip.IPv6Loopback()}, lp)
	want(t, r, true, "connected to "+lp.String())
}
