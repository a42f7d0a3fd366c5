package halfopen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
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

// sweepEvery is how often expired probes are failed: a probe's timeout is kept to
// within this.
const sweepEvery = 5 * time.Millisecond

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
	pending := p.Start(source, target, timeout, func(err error) { ch <- err })
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

// Start sends one SYN like Probe but returns at once: done is called exactly once
// with the outcome, either before Start returns (the SYN could not be sent) or
// later from the prober's goroutines (keep it quick: replies wait behind it). The
// timeout is kept by the prober's sweeper (see sweepEvery), not by a timer per
// probe: thousands of probes a second would otherwise each create one.
func (p *Prober) Start(source netip.Addr, target netip.AddrPort, timeout time.Duration, done func(error)) Pending {
	dst := target.Addr()
	if dst.Is4In6() {
		dst = dst.Unmap()
	}
	if !dst.IsValid() || target.Port() == 0 {
		done(fmt.Errorf("half-open: invalid target %s", target))
		return Pending{}
	}
	if source.IsValid() && source.Unmap().Is4() != dst.Is4() {
		done(fmt.Errorf("half-open: source %s and target %s are of different families", source, target))
		return Pending{}
	}
	f, err := p.family(dst.Is4())
	if err != nil {
		done(err)
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

// family is the raw socket of one address family and its probes in flight.
type family struct {
	v4    bool
	conn  *net.IPConn
	pc4   *ipv4.PacketConn
	pc6   *ipv6.PacketConn
	ports *reservation
	log   *slog.Logger
	done  chan struct{} // closed when the receive loop ends

	mu        sync.Mutex
	inflight  map[flow]*waiter
	rng       *rand.Rand
	closed    bool
	route     int           // UDP socket used to ask the routing table for a source (IPv4)
	busy      chan struct{} // wakes the sweeper when the first probe goes in flight
	sources   map[netip.Addr]cachedSource
	lastSweep time.Time
}

// flow identifies a probe in flight: the server and our port.
type flow struct {
	server netip.AddrPort
	local  uint16
}

type waiter struct {
	seq      uint32
	deadline int64       // monotonic nanoseconds (see monotonic)
	done     func(error) // called once: nil, Refused, ErrTimeout or net.ErrClosed
}

type cachedSource struct {
	addr netip.Addr
	at   time.Time
}

func openFamily(v4 bool, log *slog.Logger) (f *family, err error) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	f = &family{v4: v4, log: log, done: make(chan struct{}), inflight: map[flow]*waiter{}, rng: rng,
		sources: map[netip.Addr]cachedSource{}, route: -1, busy: make(chan struct{}, 1)}
	network := "ip6:tcp"
	if v4 {
		network = "ip4:tcp"
	}
	if f.conn, err = net.ListenIP(network, nil); err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	defer func() {
		if err != nil {
			f.conn.Close()
			if f.ports != nil {
				f.ports.close()
			}
			if f.route >= 0 {
				unix.Close(f.route)
			}
		}
	}()
	if f.ports, err = reserve(v4, Ports, rng.Uint32N); err != nil {
		return nil, fmt.Errorf("reserve ports: %w", err)
	}
	prog, err := filter(v4, f.ports.base, f.ports.n)
	if err != nil {
		return nil, fmt.Errorf("socket filter: %w", err)
	}
	_ = f.conn.SetReadBuffer(1 << 20)
	if v4 {
		f.pc4 = ipv4.NewPacketConn(f.conn)
		err = f.pc4.SetBPF(prog)
		if err == nil {
			f.route, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		}
	} else {
		f.pc6 = ipv6.NewPacketConn(f.conn)
		err = f.pc6.SetBPF(prog)
		if err == nil {
			// The kernel fills in the TCP checksum (offset 16) with the source it picks.
			err = f.pc6.SetChecksum(true, 16)
		}
	}
	if err != nil {
		return nil, err
	}
	go f.receive()
	go f.sweep()
	log.Debug("half-open: socket open", "ipv4", v4, "ports", fmt.Sprintf("%d-%d", f.ports.base, f.ports.base+f.ports.n-1))
	return f, nil
}

func (f *family) close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	var failed []*waiter
	for k, w := range f.inflight {
		delete(f.inflight, k)
		failed = append(failed, w)
	}
	if f.route >= 0 {
		unix.Close(f.route)
		f.route = -1
	}
	close(f.busy)
	f.mu.Unlock()
	for _, w := range failed {
		w.done(net.ErrClosed)
	}
	f.conn.Close()
	<-f.done
	f.ports.close()
}

func (f *family) start(source netip.Addr, target netip.AddrPort, timeout time.Duration, done func(error)) Pending {
	src := source
	if f.v4 && !src.IsValid() {
		var err error
		if src, err = f.sourceFor(target); err != nil {
			done(err)
			return Pending{}
		}
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		done(net.ErrClosed)
		return Pending{}
	}
	k := flow{server: target}
	for i := range f.ports.n {
		k.local = f.ports.base + i
		if _, busy := f.inflight[k]; !busy {
			break
		}
		k.local = 0
	}
	if k.local == 0 {
		f.mu.Unlock()
		done(ErrBusy)
		return Pending{}
	}
	w := &waiter{seq: f.rng.Uint32(), deadline: monotonic() + int64(timeout), done: done}
	f.inflight[k] = w
	if len(f.inflight) == 1 {
		select {
		case f.busy <- struct{}{}:
		default:
		}
	}
	f.mu.Unlock()

	var buf [synLen]byte
	if err := f.send(putSYN(buf[:], src, target.Addr(), k.local, target.Port(), w.seq), src, target); err != nil {
		if !source.IsValid() {
			f.mu.Lock()
			delete(f.sources, target.Addr()) // the route may have changed
			f.mu.Unlock()
		}
		if f.forget(k, w) {
			done(err)
		}
		return Pending{}
	}
	return Pending{f: f, k: k, w: w}
}

// sweep fails the probes whose deadline passed, every sweepEvery while any probe
// is in flight.
func (f *family) sweep() {
	t := time.NewTicker(sweepEvery)
	t.Stop()
	defer t.Stop()
	for range f.busy {
		t.Reset(sweepEvery)
		for idle := false; !idle; {
			<-t.C
			now := monotonic()
			var expired []*waiter
			f.mu.Lock()
			for k, w := range f.inflight {
				if now >= w.deadline {
					delete(f.inflight, k)
					expired = append(expired, w)
				}
			}
			idle = len(f.inflight) == 0 || f.closed
			f.mu.Unlock()
			for _, w := range expired {
				w.done(ErrTimeout)
			}
		}
		t.Stop()
	}
}

// epoch anchors monotonic.
var epoch = time.Now()

// monotonic is nanoseconds on the monotonic clock.
func monotonic() int64 { return int64(time.Since(epoch)) }

// forget removes w from the probes in flight and reports whether it was there
// (then nobody else will call its done function).
func (f *family) forget(k flow, w *waiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inflight[k] != w {
		return false
	}
	delete(f.inflight, k)
	return true
}

func (f *family) send(pkt []byte, src netip.Addr, dst netip.AddrPort) error {
	to := &net.IPAddr{IP: dst.Addr().AsSlice(), Zone: dst.Addr().Zone()}
	var err error
	if f.v4 {
		// IP_PKTINFO pins the source the checksum was computed for.
		_, err = f.pc4.WriteTo(pkt, &ipv4.ControlMessage{Src: src.AsSlice()}, to)
	} else {
		var cm *ipv6.ControlMessage
		if src.IsValid() {
			cm = &ipv6.ControlMessage{Src: src.AsSlice()}
		}
		_, err = f.pc6.WriteTo(pkt, cm, to)
	}
	return err
}

// sourceFor returns the IPv4 source address the routing table picks for target,
// cached for sourceTTL. Connecting a UDP socket looks the route up without
// sending anything; disconnecting it (AF_UNSPEC) forgets the source again.
func (f *family) sourceFor(target netip.AddrPort) (netip.Addr, error) {
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.sources[target.Addr()]; ok && now.Sub(c.at) < sourceTTL {
		return c.addr, nil
	}
	if f.closed {
		return netip.Addr{}, net.ErrClosed
	}
	if now.Sub(f.lastSweep) > sourceTTL {
		for a, c := range f.sources {
			if now.Sub(c.at) >= sourceTTL {
				delete(f.sources, a)
			}
		}
		f.lastSweep = now
	}
	disconnect(f.route)
	if err := unix.Connect(f.route, &unix.SockaddrInet4{Port: int(target.Port()), Addr: target.Addr().As4()}); err != nil {
		return netip.Addr{}, os.NewSyscallError("connect", err)
	}
	sa, err := unix.Getsockname(f.route)
	if err != nil {
		return netip.Addr{}, os.NewSyscallError("getsockname", err)
	}
	sa4, ok := sa.(*unix.SockaddrInet4)
	if !ok {
		return netip.Addr{}, fmt.Errorf("half-open: source for %s: unexpected address %T", target, sa)
	}
	src := netip.AddrFrom4(sa4.Addr)
	f.sources[target.Addr()] = cachedSource{addr: src, at: now}
	return src, nil
}

// receive matches replies to probes until the socket is closed.
func (f *family) receive() {
	defer close(f.done)
	const batch = 32
	msgs := make([]ipv4.Message, batch) // ipv4.Message and ipv6.Message are one type
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 128)} // headers are enough
	}
	for {
		var n int
		var err error
		if f.v4 {
			n, err = f.pc4.ReadBatch(msgs, 0)
		} else {
			n, err = f.pc6.ReadBatch(msgs, 0)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			f.log.Warn("half-open: read", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for i := range msgs[:n] {
			m := &msgs[i]
			b := m.Buffers[0][:m.N]
			var r reply
			var ok bool
			if f.v4 {
				r, ok = parseIPv4(b)
			} else if a, isIP := m.Addr.(*net.IPAddr); isIP {
				src, valid := netip.AddrFromSlice(a.IP)
				if valid {
					r, ok = parseTCP(b, src.WithZone(a.Zone))
				}
			}
			if ok {
				f.deliver(r)
			}
		}
	}
}

// deliver hands r to the probe it answers, if any.
func (f *family) deliver(r reply) {
	k := flow{server: r.from, local: r.local}
	f.mu.Lock()
	w, ok := f.inflight[k]
	if !ok {
		f.mu.Unlock()
		return
	}
	answered, refused := r.verdict(w.seq)
	if !answered {
		f.mu.Unlock()
		return
	}
	delete(f.inflight, k)
	f.mu.Unlock()
	if refused {
		w.done(Refused)
	} else {
		w.done(nil)
	}
}

// disconnect dissolves a UDP socket's association (connect(2) to AF_UNSPEC), which
// also forgets the source address the last connect picked.
func disconnect(fd int) {
	sa := unix.RawSockaddrInet4{Family: unix.AF_UNSPEC}
	_, _, _ = unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
}
