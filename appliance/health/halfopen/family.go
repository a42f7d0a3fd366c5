package halfopen

import (
	"container/heap"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// family is the raw socket of one address family and its probes in flight.
type family struct {
	v4    bool
	fd    int // raw IPPROTO_TCP socket, non-blocking, not in the netpoller
	ports *reservation
	log   *slog.Logger
	busy  chan struct{} // wakes the poll loop when the first probe goes in flight
	done  chan struct{} // closed when the poll loop ends
	rx    *receiver     // the poll loop's buffers
	fdMu  sync.RWMutex  // held for reading while fd is used, for writing to close it

	mu        sync.Mutex
	inflight  map[flow]*waiter
	deadlines deadlineHeap // every waiter tracked, by deadline; answered ones are skipped when due
	rng       *rand.Rand
	closed    bool
	route     int // UDP socket used to ask the routing table for a source (IPv4)
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
	deadline int64 // monotonic nanoseconds (see monotonic)
	done     Done
}

type cachedSource struct {
	addr netip.Addr
	at   time.Time
}

func openFamily(v4 bool, log *slog.Logger) (_ *family, err error) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	f := &family{v4: v4, log: log, fd: -1, route: -1, rng: rng,
		busy: make(chan struct{}, 1), done: make(chan struct{}),
		inflight: map[flow]*waiter{}, sources: map[netip.Addr]cachedSource{}}
	defer func() {
		if err != nil {
			f.release()
		}
	}()
	if f.fd, err = openRaw(v4); err != nil {
		return nil, err
	}
	if f.ports, err = reserve(v4, Ports); err != nil {
		return nil, fmt.Errorf("reserve ports: %w", err)
	}
	prog, err := filter(v4, f.ports.ports)
	if err != nil {
		return nil, fmt.Errorf("socket filter: %w", err)
	}
	if err = attachFilter(f.fd, prog); err != nil {
		return nil, err
	}
	if v4 {
		if f.route, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return nil, os.NewSyscallError("socket", err)
		}
	}
	f.rx = newReceiver(v4)
	go f.poll()
	log.Debug("half-open: socket open", "ipv4", v4, "ports", fmt.Sprint(f.ports.ports))
	return f, nil
}

// release closes the sockets and frees the ports.
func (f *family) release() {
	if f.fd >= 0 {
		unix.Close(f.fd)
		f.fd = -1
	}
	if f.route >= 0 {
		unix.Close(f.route)
		f.route = -1
	}
	if f.ports != nil {
		f.ports.close()
	}
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
	close(f.busy)
	f.mu.Unlock()
	for _, w := range failed {
		w.done(net.ErrClosed, time.Time{})
	}
	<-f.done // the poll loop no longer uses the socket
	f.fdMu.Lock()
	f.release()
	f.fdMu.Unlock()
}

func (f *family) start(source netip.Addr, target netip.AddrPort, timeout time.Duration, done Done) Pending {
	src := source
	if f.v4 && !src.IsValid() {
		var err error
		if src, err = f.sourceFor(target); err != nil {
			done(err, time.Time{})
			return Pending{}
		}
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		done(net.ErrClosed, time.Time{})
		return Pending{}
	}
	k := flow{server: target}
	for _, port := range f.ports.ports {
		k.local = port
		if _, busy := f.inflight[k]; !busy {
			break
		}
		k.local = 0
	}
	if k.local == 0 {
		f.mu.Unlock()
		done(ErrBusy, time.Time{})
		return Pending{}
	}
	w := &waiter{seq: f.rng.Uint32(), deadline: monotonic() + int64(timeout), done: done}
	f.track(k, w)
	f.mu.Unlock()

	var buf [synLen]byte
	err := net.ErrClosed
	f.fdMu.RLock()
	if f.fd >= 0 {
		err = sendSYN(f.fd, putSYN(buf[:], src, target.Addr(), k.local, target.Port(), w.seq), src, target)
	}
	f.fdMu.RUnlock()
	if err != nil {
		if !source.IsValid() {
			f.mu.Lock()
			delete(f.sources, target.Addr()) // the route may have changed
			f.mu.Unlock()
		}
		if f.forget(k, w) {
			done(err, time.Time{})
		}
		return Pending{}
	}
	return Pending{f: f, k: k, w: w}
}

// track registers w as in flight (f.mu held) and wakes the poll loop for the
// first one.
func (f *family) track(k flow, w *waiter) {
	f.inflight[k] = w
	heap.Push(&f.deadlines, deadlineEntry{w.deadline, k, w})
	if len(f.inflight) == 1 {
		select {
		case f.busy <- struct{}{}:
		default:
		}
	}
}

// poll reads answers and fails expired probes every pollEvery while any probe is
// in flight, and sleeps otherwise.
func (f *family) poll() {
	defer close(f.done)
	t := time.NewTicker(pollEvery)
	t.Stop()
	defer t.Stop()
	for range f.busy {
		t.Reset(pollEvery)
		for idle := false; !idle; {
			<-t.C
			f.receive()
			idle = f.expire(monotonic())
		}
		t.Stop()
	}
}

// receive hands every queued answer to its probe.
func (f *family) receive() {
	for {
		n, err := f.rx.read(f.fd)
		if err != nil {
			if err != unix.EAGAIN {
				f.log.Warn("half-open: read", "err", err)
			}
			return
		}
		for i := range n {
			if r, ok := f.rx.reply(i); ok {
				f.deliver(r, f.rx.stamp(i))
			}
		}
		if n < len(f.rx.hdrs) {
			return
		}
	}
}

// expire fails the probes whose deadline is at or before now and reports whether
// none is left. It looks only at the due end of the deadline heap: a tick with
// thousands of probes waiting on silent servers costs nothing until they are due.
func (f *family) expire(now int64) (idle bool) {
	var expired []*waiter
	f.mu.Lock()
	for len(f.deadlines) > 0 && f.deadlines[0].deadline <= now {
		e := heap.Pop(&f.deadlines).(deadlineEntry)
		if f.inflight[e.k] == e.w { // else answered or withdrawn already
			delete(f.inflight, e.k)
			expired = append(expired, e.w)
		}
	}
	idle = len(f.inflight) == 0 || f.closed
	if len(f.inflight) == 0 {
		clear(f.deadlines) // only answered probes' entries are left
		f.deadlines = f.deadlines[:0]
	}
	f.mu.Unlock()
	for _, w := range expired {
		w.done(ErrTimeout, time.Time{})
	}
	return idle
}

// deliver hands r, received at at, to the probe it answers, if any.
func (f *family) deliver(r reply, at time.Time) {
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
	if at.IsZero() {
		at = time.Now()
	}
	if refused {
		w.done(Refused, at)
	} else {
		w.done(nil, at)
	}
}

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

// deadlineHeap orders tracked probes by deadline (container/heap).
type deadlineHeap []deadlineEntry

type deadlineEntry struct {
	deadline int64
	k        flow
	w        *waiter
}

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].deadline < h[j].deadline }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadlineEntry)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = deadlineEntry{}
	*h = old[:len(old)-1]
	return e
}

// epoch anchors monotonic.
var epoch = time.Now()

// monotonic is nanoseconds on the monotonic clock.
func monotonic() int64 { return int64(time.Since(epoch)) }

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
