package halfopen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Ports is how many local ports a family reserves: how many probes may be in
// flight to one server address and port at the same time.
const Ports = 16

// sourceTTL is how long a looked-up IPv4 source address is reused before the
// routing table is asked again.
const sourceTTL = 30 * time.Second

// ErrBusy is returned when Ports probes to the same address and port are in flight.
var ErrBusy = errors.New("half-open: too many probes in flight to this address and port")

// ErrTimeout is returned when no answer came within the probe's timeout. It is an
// os.ErrDeadlineExceeded, like a socket deadline's.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "half-open: no answer in time" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Is(e error) bool { return e == os.ErrDeadlineExceeded }

// pollEvery is how often, while probes are in flight, the socket is read and
// expired probes are failed. Answers wait up to this long to be handled (their
// latency comes from the kernel's receive timestamp, so it is not skewed), and a
// probe's timeout is kept to within this. The socket is deliberately not in Go's
// netpoller: a wake-up per answer (three context switches each on this kind of
// VM) cost more than the probes themselves at thousands per second.
const pollEvery = time.Millisecond

// ErrSetup wraps the reason the prober's socket could not be opened (usually a
// missing CAP_NET_RAW).
var ErrSetup = errors.New("half-open probes unavailable")

// Refused is the error of a probe answered with a RST. It is the errno a
// connect(2) would return.
const Refused = unix.ECONNREFUSED

// Prober sends SYN probes and matches their answers. It is safe for concurrent use;
// one Prober per process is enough (see Default).
type Prober struct {
	log    *slog.Logger
	mu     sync.Mutex
	v4, v6 *family
	closed bool
}

// New returns a prober; its sockets are opened by the first probe of each family.
func New(log *slog.Logger) *Prober {
	if log == nil {
		log = slog.Default()
	}
	return &Prober{log: log}
}

var defaultProber = sync.OnceValue(func() *Prober { return New(nil) })

// Default returns the process's shared prober (never closed).
func Default() *Prober { return defaultProber() }

// Probe sends one SYN from source (zero: the address the routing table picks) to
// target and waits at most timeout for the answer. It returns nil for a SYN-ACK,
// Refused for a RST, ErrTimeout, ctx's error when ctx ends first, or the error
// that kept the SYN from being sent.
func (p *Prober) Probe(ctx context.Context, source netip.Addr, target netip.AddrPort, timeout time.Duration) error {
	ch := make(chan error, 1)
	pending := p.Start(source, target, timeout, func(err error, _ time.Time) { ch <- err })
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		if pending.Cancel() {
			return ctx.Err()
		}
		return <-ch // answered meanwhile
	}
}

// Done receives the outcome of a started probe: err as Probe returns it, and for
// an answer (err nil or Refused) the kernel's receive time of the answer.
type Done func(err error, answered time.Time)

// Start sends one SYN like Probe but returns at once: done is called exactly once,
// either before Start returns (the SYN could not be sent) or later from the
// prober's poll loop (keep it quick: other answers wait behind it). The timeout
// is kept by the poll loop, not by a timer per probe: thousands of probes a
// second would otherwise each create one.
func (p *Prober) Start(source netip.Addr, target netip.AddrPort, timeout time.Duration, done Done) Pending {
	dst := target.Addr()
	if dst.Is4In6() {
		dst = dst.Unmap()
	}
	if !dst.IsValid() || target.Port() == 0 {
		done(fmt.Errorf("half-open: invalid target %s", target), time.Time{})
		return Pending{}
	}
	if source.IsValid() && source.Unmap().Is4() != dst.Is4() {
		done(fmt.Errorf("half-open: source %s and target %s are of different families", source, target), time.Time{})
		return Pending{}
	}
	f, err := p.family(dst.Is4())
	if err != nil {
		done(err, time.Time{})
		return Pending{}
	}
	return f.start(source.Unmap(), netip.AddrPortFrom(dst, target.Port()), timeout, done)
}

// Pending is a probe in flight.
type Pending struct {
	f *family
	k flow
	w *waiter
}

// Cancel withdraws the probe. It reports whether it did; false means its done
// function has been or is being called.
func (pd Pending) Cancel() bool {
	if pd.w == nil {
		return false
	}
	return pd.f.forget(pd.k, pd.w)
}

// Close closes the sockets and releases the ports; probes in flight return
// net.ErrClosed.
func (p *Prober) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, f := range []*family{p.v4, p.v6} {
		if f != nil {
			f.close()
		}
	}
	return nil
}

func (p *Prober) family(v4 bool) (*family, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, net.ErrClosed
	}
	fp := &p.v6
	if v4 {
		fp = &p.v4
	}
	if *fp == nil {
		f, err := openFamily(v4, p.log)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSetup, err)
		}
		*fp = f
	}
	return *fp, nil
}
