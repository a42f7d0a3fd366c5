package checker

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/halfopen"
)

// tcpChecker passes when a TCP connection to the target is established. The
// connection is closed with a reset (SO_LINGER 0), as HAProxy does, so thousands of
// checks per second leave no TIME_WAIT sockets on the box.
//
// It uses socket(2) and a non-blocking connect(2) directly and waits for the
// handshake in Go's netpoller (no OS thread is blocked), skipping what
// net.Dialer adds for general use (address parsing, deadline and cancel
// goroutine bookkeeping, extra getsockopt/getsockname calls, a net.TCPConn).
type tcpChecker struct{ base }

func (c *tcpChecker) Check(ctx context.Context) health.Result {
	ctx, cancel, start := c.attempt(ctx)
	defer cancel()
	if err := connectTCP(ctx, c.spec.Source, c.target); err != nil {
		return fail(start, "%s", describe(err, "connect", c.spec.Timeout))
	}
	return pass(start, "connected to "+c.addr)
}

// synChecker passes when the target answers a SYN with a SYN-ACK (a half-open
// probe, see package halfopen); a RST fails it as "connection refused".
type synChecker struct {
	base
	prober *halfopen.Prober
}

// Check keeps the timeout through the prober (no context timer per attempt).
func (c *synChecker) Check(ctx context.Context) health.Result {
	start := time.Now()
	return c.result(start, time.Time{}, c.prober.Probe(ctx, c.spec.Source, c.target, c.spec.Timeout))
}

// Start implements AsyncChecker.
func (c *synChecker) Start(done func(health.Result)) {
	start := time.Now()
	c.prober.Start(c.spec.Source, c.target, c.spec.Timeout, func(err error, answered time.Time) {
		done(c.result(start, answered, err))
	})
}

// result judges a probe started at start and answered at answered (the kernel's
// receive time; zero: now).
func (c *synChecker) result(start, answered time.Time, err error) health.Result {
	lat := time.Since(start)
	if !answered.IsZero() {
		lat = max(answered.Sub(start), 0)
	}
	switch {
	case err == nil:
		return health.Result{OK: true, Latency: lat, Text: "SYN-ACK from " + c.addr + " in " + health.Millis(lat)}
	case errors.Is(err, halfopen.ErrSetup) || errors.Is(err, halfopen.ErrBusy):
		return health.Result{Latency: lat, Text: err.Error()}
	}
	return health.Result{Latency: lat, Text: describe(err, "connect", c.spec.Timeout)}
}

// connectTCP opens a TCP connection from source (if valid) to target and resets it
// at once. It returns nil once the handshake completed, the connect error (an
// errno), or ctx's error when ctx ended first.
func connectTCP(ctx context.Context, source netip.Addr, target netip.AddrPort) error {
	family, sa, err := sockaddr(target.Addr(), target.Port())
	if err != nil {
		return err
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	if source.IsValid() {
		// Pick the source port at connect(2), per destination, not at bind(2):
		// otherwise every check from one source address competes for one port range.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		_, la, err := sockaddr(source.Unmap(), 0)
		if err == nil {
			err = unix.Bind(fd, la)
		}
		if err != nil {
			unix.Close(fd)
			return os.NewSyscallError("bind", err)
		}
	}
	switch err := unix.Connect(fd, sa); err {
	case nil:
		return reset(fd)
	case unix.EINPROGRESS, unix.EINTR:
		// On loopback the handshake often completes inside connect(2): then the
		// netpoller (epoll_ctl add and delete) is not needed.
		if _, err := unix.Getpeername(fd); err == nil {
			return reset(fd)
		}
	default:
		unix.Close(fd)
		return os.NewSyscallError("connect", err)
	}

	// Registered with the netpoller only now: an unconnected socket polls writable.
	f := os.NewFile(uintptr(fd), "tcp-check")
	defer f.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = f.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(aLongTimeAgo) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	werr := rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			cerr = os.NewSyscallError("getsockopt", err)
			return true
		}
		switch e := unix.Errno(v); e {
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			return false
		case 0:
			// Writable with no error: connected, unless the wake-up was spurious.
			if _, err := unix.Getpeername(int(fd)); err != nil {
				return false
			}
			// Reset on close; if this fails the close leaves a TIME_WAIT, no more.
			_ = unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
			return true
		default:
			cerr = os.NewSyscallError("connect", e)
			return true
		}
	})
	if werr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return werr
	}
	return cerr
}

// aLongTimeAgo is a deadline in the past: it wakes a waiting poll at once.
var aLongTimeAgo = time.Unix(1, 0)

// reset closes a connected socket with a RST (SO_LINGER 0).
func reset(fd int) error {
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
	unix.Close(fd)
	return nil
}

// sockaddr converts addr and port to a socket address and its family.
func sockaddr(addr netip.Addr, port uint16) (int, unix.Sockaddr, error) {
	if addr.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(port), Addr: addr.As4()}, nil
	}
	if !addr.Is6() {
		return 0, nil, errors.New("invalid address")
	}
	sa := &unix.SockaddrInet6{Port: int(port), Addr: addr.As16()}
	if z := addr.Zone(); z != "" {
		ifi, err := net.InterfaceByName(z)
		if err != nil {
			return 0, nil, err
		}
		sa.ZoneId = uint32(ifi.Index)
	}
	return unix.AF_INET6, sa, nil
}
