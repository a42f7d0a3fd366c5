package checker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/halfopen"
)

// Checker runs attempts of one check against one target.
type Checker interface {
	// Check runs one attempt. It returns when the attempt has a verdict, when the
	// spec's timeout expires or when ctx ends, whichever is first.
	Check(ctx context.Context) health.Result
}

// AsyncChecker is a Checker that can also run an attempt without a goroutine
// waiting for it (half-open tcp checks): the scheduler starts such attempts from
// its dispatcher instead of handing them to a worker.
type AsyncChecker interface {
	Checker
	// Start begins one attempt and returns at once; done is called exactly once with
	// the result, possibly before Start returns, otherwise from another goroutine
	// (it must be quick). The spec's timeout applies.
	Start(done func(health.Result))
}

// Options tune how checkers reach the system.
type Options struct {
	// ICMP selects the ICMP socket kind (default ICMPAuto).
	ICMP ICMPMode
	// Env is added to the environment of scripts (after the LVSBOX_CHECK_* values).
	Env []string
	// HalfOpen sends the SYNs of half-open tcp checks (default halfopen.Default()).
	HalfOpen *halfopen.Prober
}

// New builds the checker of spec (with its defaults applied here) for the real
// server at server.
func New(spec health.Spec, server netip.AddrPort, opts Options) (Checker, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("health: %w", err)
	}
	target := spec.Target(server)
	target = netip.AddrPortFrom(target.Addr().Unmap(), target.Port())
	if !target.Addr().IsValid() {
		return nil, fmt.Errorf("health: %s check: no target address", spec.Type)
	}
	if spec.Type != health.TypeICMP && spec.Type != health.TypeScript && target.Port() == 0 {
		return nil, fmt.Errorf("health: %s check of %s: no target port", spec.Type, target.Addr())
	}
	if spec.Source.IsValid() && spec.Source.Is4() != target.Addr().Unmap().Is4() {
		return nil, fmt.Errorf("health: %s check of %s: source %s is of another family", spec.Type, target, spec.Source)
	}
	b := base{spec: spec, target: target, addr: target.String()}
	switch spec.Type {
	case health.TypeTCP:
		if spec.TCP != nil && spec.TCP.HalfOpen {
			p := opts.HalfOpen
			if p == nil {
				p = halfopen.Default()
			}
			return &synChecker{base: b, prober: p}, nil
		}
		return &tcpChecker{b}, nil
	case health.TypeHTTP, health.TypeHTTPS:
		return newHTTP(b)
	case health.TypeUDP:
		return newUDP(b)
	case health.TypeDNS:
		return newDNS(b)
	case health.TypeSMTP:
		return &smtpChecker{b}, nil
	case health.TypeICMP:
		return newICMP(b, opts.ICMP), nil
	case health.TypeScript:
		return newScript(b, opts.Env), nil
	}
	return nil, fmt.Errorf("health: unknown check type %q", spec.Type)
}

// base is what every checker knows.
type base struct {
	spec   health.Spec
	target netip.AddrPort
	addr   string // target as host:port
}

// dialer returns a dialer bound to the spec's source address. Keep-alive probing
// is off: a check's connection lives for one attempt, and the setsockopt calls
// are a measurable share of a TCP check's cost.
func (b base) dialer(network string) *net.Dialer {
	d := &net.Dialer{KeepAlive: -1}
	if b.spec.Source.IsValid() {
		switch network {
		case "udp":
			d.LocalAddr = &net.UDPAddr{IP: b.spec.Source.AsSlice()}
		default:
			d.LocalAddr = &net.TCPAddr{IP: b.spec.Source.AsSlice()}
		}
	}
	return d
}

// attempt derives the attempt's context (the spec's timeout) and its start time.
func (b base) attempt(ctx context.Context) (context.Context, context.CancelFunc, time.Time) {
	ctx, cancel := context.WithTimeout(ctx, b.spec.AttemptTimeout())
	return ctx, cancel, time.Now()
}

// fail builds a failed result.
func fail(start time.Time, format string, args ...any) health.Result {
	return health.Result{Latency: time.Since(start), Text: fmt.Sprintf(format, args...)}
}

// pass builds a passing result; text gets the latency ("in 3 ms") appended.
func pass(start time.Time, text string) health.Result {
	lat := time.Since(start)
	return health.Result{OK: true, Latency: lat, Text: text + " in " + health.Millis(lat)}
}

// describe turns an I/O error into operator text. phase names what was going on
// ("connect", "reading response", ...); timeouts become "timeout after 1s" (plus the
// phase unless it is "connect").
func describe(err error, phase string, timeout time.Duration) string {
	if isTimeout(err) {
		if phase == "" || phase == "connect" {
			return "timeout after " + timeout.String()
		}
		return "timeout after " + timeout.String() + " " + phase
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if phase == "" {
			return errno.Error()
		}
		return phase + ": " + errno.Error()
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	msg := err.Error()
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		msg = op.Err.Error()
	}
	if phase == "" {
		return msg
	}
	return phase + ": " + msg
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// watch closes the connection's deadline when ctx ends (deadline or cancel), so
// blocking reads and writes return; the returned func stops watching.
func watch(ctx context.Context, c interface{ SetDeadline(time.Time) error }) func() bool {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	return context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
}

// quote shortens s for a result text.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// firstLine returns the first line of s, trimmed.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}
