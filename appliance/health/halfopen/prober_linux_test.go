package halfopen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/testenv"
)

// listen opens a TCP listener on addr and fails the test if the application ever
// gets a connection from it: half-open probes must not reach it.
func listen(t *testing.T, addr string) (netip.AddrPort, func()) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ap := l.Addr().(*net.TCPAddr).AddrPort()
	noAccept := func() {
		t.Helper()
		l.(*net.TCPListener).SetDeadline(time.Now().Add(100 * time.Millisecond))
		if c, err := l.Accept(); err == nil {
			c.Close()
			t.Errorf("%s: a connection reached the application", ap)
		}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), noAccept
}

func probe(p *Prober, source netip.Addr, target netip.AddrPort, timeout time.Duration) error {
	return p.Probe(context.Background(), source, target, timeout)
}

func TestProbeLoopback(t *testing.T) {
	testenv.NeedRoot(t)
	p := New(nil)
	defer p.Close()
	for _, tc := range []struct{ listen, closed string }{
		{"127.0.0.1:0", "127.0.0.1"},
		{"[::1]:0", "::1"},
	} {
		up, noAccept := listen(t, tc.listen)
		for range 20 {
			if err := probe(p, netip.Addr{}, up, time.Second); err != nil {
				t.Fatalf("%s: %v", up, err)
			}
		}
		noAccept()

		// Start: the answer's kernel receive time comes with it.
		start := time.Now()
		ch := make(chan time.Time, 1)
		p.Start(netip.Addr{}, up, time.Second, func(err error, at time.Time) {
			if err != nil {
				t.Errorf("start %s: %v", up, err)
			}
			ch <- at
		})
		at := <-ch
		if at.Before(start) || at.After(time.Now()) {
			t.Errorf("answer received at %v: not between the start (%v) and now", at, start)
		}

		// A closed port: find one by binding and closing.
		c, err := net.Listen("tcp", netip.AddrPortFrom(netip.MustParseAddr(tc.closed), 0).String())
		if err != nil {
			t.Fatal(err)
		}
		closed := c.Addr().(*net.TCPAddr).AddrPort()
		c.Close()
		if err := probe(p, netip.Addr{}, closed, time.Second); !errors.Is(err, Refused) {
			t.Errorf("%s (closed): %v, want connection refused", closed, err)
		}
	}
	// A chosen source address is used (and answered).
	up, _ := listen(t, "127.0.0.1:0")
	if err := probe(p, netip.MustParseAddr("127.0.0.2"), up, time.Second); err != nil {
		t.Errorf("from 127.0.0.2: %v", err)
	}
	if err := probe(p, netip.MustParseAddr("::1"), up, time.Second); err == nil {
		t.Error("a source of the other family was accepted")
	}
	checkIdle(t, p)
}

// checkIdle fails if a probe is still registered as in flight.
func checkIdle(t *testing.T, p *Prober) {
	t.Helper()
	for _, f := range []*family{p.v4, p.v6} {
		if f == nil {
			continue
		}
		f.mu.Lock()
		n := len(f.inflight)
		f.mu.Unlock()
		if n != 0 {
			t.Errorf("ipv4=%v: %d probes left in flight", f.v4, n)
		}
	}
}

// TestProbeConcurrent: many probes at once to many listeners, several rounds.
func TestProbeConcurrent(t *testing.T) {
	testenv.NeedRoot(t)
	p := New(nil)
	defer p.Close()
	var targets []netip.AddrPort
	for i := range 100 {
		ap, _ := listen(t, fmt.Sprintf("127.4.%d.%d:0", i/200, 1+i%200))
		targets = append(targets, ap)
	}
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make(chan error, len(targets)*2)
		for _, ap := range targets {
			for range 2 { // two probes to the same target in flight: two local ports
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := probe(p, netip.Addr{}, ap, 2*time.Second); err != nil {
						errs <- fmt.Errorf("round %d, %s: %w", round, ap, err)
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	checkIdle(t, p)
}

// TestReservedPorts: the ports are bound while the prober is open and free after.
func TestReservedPorts(t *testing.T) {
	testenv.NeedRoot(t)
	p := New(nil)
	up, _ := listen(t, "127.0.0.1:0")
	if err := probe(p, netip.Addr{}, up, time.Second); err != nil {
		t.Fatal(err)
	}
	ports := p.v4.ports.ports
	if len(ports) != Ports {
		t.Fatalf("%d ports reserved, want %d", len(ports), Ports)
	}
	for _, port := range ports {
		if l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			l.Close()
			t.Errorf("reserved port %d could be bound", port)
		}
	}
	base := ports[0]
	p.Close()
	if err := probe(p, netip.Addr{}, up, time.Second); !errors.Is(err, net.ErrClosed) {
		t.Errorf("probe after Close: %v", err)
	}
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", base))
	if err != nil {
		t.Errorf("port %d still bound after Close: %v", base, err)
	} else {
		l.Close()
	}
}

// TestProbeSilentHost: a server that never answers is a timeout, in a namespace
// where the target's subnet is on one end of a veth pair whose other end answers
// nothing (no address: ARP for the target goes unanswered).
// A probe that times out leaves nothing in flight; Close fails waiting probes.
func TestProbeSilentHost(t *testing.T) {
	testenv.NeedRoot(t)
	name, ns := testenv.Netns(t, "lvho")
	testenv.IP(t, "-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	testenv.IP(t, "-n", name, "addr", "add", "198.51.100.1/24", "dev", "v0")
	testenv.IP(t, "-n", name, "link", "set", "v0", "up")
	testenv.IP(t, "-n", name, "link", "set", "v1", "up")

	// Sockets belong to the namespace of the thread that creates them (the
	// prober's are opened by its first probe, and the source look-up's too).
	err := testenv.InNetns(ns, func() error {
		p := New(nil)
		defer p.Close()
		silent := netip.MustParseAddrPort("198.51.100.2:80")
		start := time.Now()
		if err := probe(p, netip.Addr{}, silent, 300*time.Millisecond); !errors.Is(err, ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("silent host: %v, want a timeout", err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("gave up after %v", d)
		}
		// The caller's context still ends a probe early.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		if err := p.Probe(ctx, netip.Addr{}, silent, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("silent host, context ended: %v", err)
		}
		cancel()
		if src := p.v4.sources[silent.Addr()].addr; src != netip.MustParseAddr("198.51.100.1") {
			t.Errorf("source looked up for %s: %s", silent.Addr(), src)
		}
		checkIdle(t, p)

		// More probes to one target than there are local ports: the rest are busy.
		ctx, cancel = context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range Ports {
			wg.Add(1)
			go func() { defer wg.Done(); p.Probe(ctx, netip.Addr{}, silent, time.Hour) }()
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			p.v4.mu.Lock()
			n := len(p.v4.inflight)
			p.v4.mu.Unlock()
			if n == Ports || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := p.Probe(ctx, netip.Addr{}, silent, time.Hour); !errors.Is(err, ErrBusy) {
			t.Errorf("probe %d to one target: %v, want ErrBusy", Ports+1, err)
		}
		cancel()
		wg.Wait()
		checkIdle(t, p)

		// No route at all: the send fails at once with the kernel's reason.
		err := probe(p, netip.Addr{}, netip.MustParseAddrPort("203.0.113.1:80"), time.Second)
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("unroutable target: %v, want a send error", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
