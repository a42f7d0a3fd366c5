package ipvsnl

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
)

// ErrNotAvailable means the kernel has no IPVS generic netlink family (ip_vs is
// not loaded or not built).
var ErrNotAvailable = errors.New("IPVS is not available in this kernel (generic netlink family IPVS missing; is ip_vs loaded?)")

// ErrBroken is returned by a Conn after a transport failure.
var ErrBroken = errors.New("ipvsnl: connection out of step after a transport failure; reopen it")

// netlinkGeneric is NETLINK_GENERIC.
const netlinkGeneric = 16

// DefaultWindow is how many writes Apply sends in one sendmsg before it reads the
// answers. An answer (error, or acknowledgement with AckEach) takes about 768 bytes
// of the socket's receive buffer; Dial sizes the buffer for a window of them.
const DefaultWindow = 256

// maxWindow bounds the window so that one sendmsg stays well below the socket's
// send buffer limit (a write request is about 150 bytes).
const maxWindow = 2048

// opTimeout bounds one exchange when the context has no deadline, so a lost reply
// cannot hang the caller.
const opTimeout = 60 * time.Second

// Config tunes Dial.
type Config struct {
	// NetNS is a network namespace file descriptor to open the socket in; 0 means
	// the caller's namespace.
	NetNS int
	// Window is the number of writes Apply sends per sendmsg (default DefaultWindow).
	Window int
	// AckEach asks the kernel to acknowledge every write of Apply, not only the
	// last of each window (slower: one more datagram to read per write).
	AckEach bool
}

// Conn is a connection to the kernel's IPVS family. It is safe for concurrent use
// (calls are serialised). After a transport failure (a lost or late reply) the
// socket may be out of step with the kernel; every later call then fails with
// ErrBroken and the caller should Close it and Dial again.
type Conn struct {
	mu      sync.Mutex
	w       wire
	family  uint16
	window  int
	ackEach bool
	broken  error
	seq     uint32
	wbuf    []byte  // reused request buffer
	msgs    []nlmsg // reused parse buffer
}

// Dial opens a generic netlink socket and resolves the IPVS family. Without IPVS in
// the kernel the error wraps ErrNotAvailable.
func Dial(cfg Config) (*Conn, error) {
	nc, err := netlink.Dial(netlinkGeneric, &netlink.Config{NetNS: cfg.NetNS})
	if err != nil {
		return nil, fmt.Errorf("ipvsnl: open generic netlink socket: %w", err)
	}
	c, err := New(nc, cfg.Window)
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.ackEach = cfg.AckEach
	// Best effort: smaller error answers, kernel error strings, buffers for the window.
	_ = nc.SetOption(netlink.CapAcknowledge, true)
	_ = nc.SetOption(netlink.ExtendedAcknowledge, true)
	sizeBuffers(nc, c.window)
	return c, nil
}

// New resolves the IPVS family on an open NETLINK_GENERIC socket and returns a Conn
// that owns it. window <= 0 means DefaultWindow.
func New(nc *netlink.Conn, window int) (*Conn, error) {
	family, err := resolveFamily(nc)
	if err != nil {
		return nil, err
	}
	w, err := newRawWire(nc)
	if err != nil {
		return nil, fmt.Errorf("ipvsnl: %w", err)
	}
	return newConn(w, family, window), nil
}

// resolveFamily asks the generic netlink controller for the IPVS family id.
func resolveFamily(nc *netlink.Conn) (uint16, error) {
	f, err := genetlink.NewConn(nc).GetFamily(FamilyName)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return 0, fmt.Errorf("ipvsnl: %w", ErrNotAvailable)
		}
		return 0, fmt.Errorf("ipvsnl: resolve generic netlink family %s: %w", FamilyName, err)
	}
	return f.ID, nil
}

func newConn(w wire, family uint16, window int) *Conn {
	if window <= 0 {
		window = DefaultWindow
	}
	return &Conn{w: w, family: family, window: min(window, maxWindow), seq: uint32(time.Now().UnixNano())}
}

// sizeBuffers makes room for a window of answers and requests; as root it may
// exceed the sysctl limits (SO_RCVBUFFORCE / SO_SNDBUFFORCE).
func sizeBuffers(nc *netlink.Conn, window int) {
	rcv, snd := window*1024+64<<10, window*256+64<<10
	_ = nc.SetReadBuffer(rcv)
	_ = nc.SetWriteBuffer(snd)
	if got, err := nc.ReadBuffer(); err == nil && got >= rcv {
		return
	}
	rc, err := nc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcv)
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUFFORCE, snd)
	})
}

// Close closes the socket.
func (c *Conn) Close() error { return c.w.close() }

// Err returns the transport failure that broke the Conn, or nil.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broken
}

// Family is the generic netlink family id of IPVS.
func (c *Conn) Family() uint16 { return c.family }

// Window is the number of writes Apply sends per sendmsg.
func (c *Conn) Window() int { return c.window }

// SetAckEach switches between acknowledging every write (true) and only the last
// of each window (false, the default).
func (c *Conn) SetAckEach(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ackEach = on
}

func (c *Conn) nextSeq() uint32 {
	c.seq++
	return c.seq
}

// arm sets the socket deadline for one exchange.
func (c *Conn) arm(ctx context.Context) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(opTimeout)
	}
	c.w.setDeadline(d)
}

// fail marks the Conn broken by a transport error and returns it.
func (c *Conn) fail(err error) error {
	c.broken = err
	return err
}

// exec sends one request and calls fn with the attributes of every data reply. A
// dump (flags with flagDump) ends with NLMSG_DONE; a request with flagAck with its
// acknowledgement; any other request with its one reply. A kernel error ends the
// exchange with the socket still in step; a decode error from fn is returned after
// the exchange is complete.
func (c *Conn) exec(ctx context.Context, cmd Command, data []byte, flags uint16, fn func(attrs []byte) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return fmt.Errorf("%s: %w (after: %v)", cmd, ErrBroken, c.broken)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	seq := c.nextSeq()
	c.wbuf = appendMessage(c.wbuf[:0], c.family, flagRequest|flags, seq, cmd, data)
	c.arm(ctx)
	if err := c.w.send(c.wbuf); err != nil {
		return fmt.Errorf("%s: %w", cmd, c.fail(err))
	}
	var fnErr error
	for {
		b, err := c.w.recv()
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, c.fail(err))
		}
		if c.msgs, err = parseDatagram(b, c.msgs); err != nil {
			return fmt.Errorf("%s: %w", cmd, c.fail(err))
		}
		for _, m := range c.msgs {
			if m.seq != seq {
				continue // not ours (nothing else should be in flight)
			}
			switch {
			case m.typ == nlmsgError:
				if err := errorOf(m); err != nil {
					return fmt.Errorf("%s: %w", cmd, err)
				}
				return wrapDecode(cmd, fnErr)
			case m.typ == nlmsgDone:
				if err := errorOf(m); err != nil {
					return fmt.Errorf("%s: %w", cmd, err)
				}
				return wrapDecode(cmd, fnErr)
			case len(m.data) < genlHdrLen:
				fnErr = cmp(fnErr, errors.New("short generic netlink message"))
			case fn != nil:
				fnErr = cmp(fnErr, fn(m.data[genlHdrLen:]))
			}
			if flags&(flagDump|flagAck) == 0 && m.typ != nlmsgError {
				return wrapDecode(cmd, fnErr) // a plain request has one reply
			}
		}
	}
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func wrapDecode(cmd Command, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}

// Info returns the IPVS version and connection table size (GET_INFO).
func (c *Conn) Info(ctx context.Context) (Info, error) {
	var i Info
	n := 0
	err := c.exec(ctx, CmdGetInfo, nil, 0, func(b []byte) (err error) {
		n++
		i, err = decodeInfo(b)
		return err
	})
	if err == nil && n != 1 {
		err = fmt.Errorf("%s: %d replies, want 1", CmdGetInfo, n)
	}
	return i, err
}

// Services dumps every virtual service (GET_SERVICE with NLM_F_DUMP), with stats.
func (c *Conn) Services(ctx context.Context) ([]Service, error) {
	var out []Service
	err := c.exec(ctx, CmdGetService, nil, flagDump, func(b []byte) error {
		s, err := decodeNested(b, cmdAttrService, decodeService)
		out = append(out, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decodeNested decodes top-level attribute typ of a reply with dec.
func decodeNested[T any](b []byte, typ uint16, dec func([]byte) (T, error)) (T, error) {
	inner, err := nestedOf(b, typ)
	if err != nil {
		var zero T
		return zero, err
	}
	return dec(inner)
}

func serviceAttr(s Service) ([]byte, error) {
	var a abuf
	err := a.nest(cmdAttrService, func() error { return appendService(&a, s.Key(), false) })
	return a, err
}

// Service reads one service by key (GET_SERVICE); a missing service is ESRCH.
func (c *Conn) Service(ctx context.Context, key Service) (Service, error) {
	data, err := serviceAttr(key)
	if err != nil {
		return Service{}, err
	}
	var (
		s Service
		n int
	)
	err = c.exec(ctx, CmdGetService, data, 0, func(b []byte) (err error) {
		n++
		s, err = decodeNested(b, cmdAttrService, decodeService)
		return err
	})
	if err != nil {
		return Service{}, fmt.Errorf("%w (service %s)", err, key)
	}
	if n != 1 {
		return Service{}, fmt.Errorf("%s %s: %d replies, want 1", CmdGetService, key, n)
	}
	return s, nil
}

// Destinations dumps the destinations of one service (GET_DEST with NLM_F_DUMP).
// The kernel answers an unknown service with an empty list.
func (c *Conn) Destinations(ctx context.Context, svc Service) ([]Destination, error) {
	data, err := serviceAttr(svc)
	if err != nil {
		return nil, err
	}
	out := []Destination{}
	err = c.exec(ctx, CmdGetDest, data, flagDump, func(b []byte) error {
		d, err := decodeNested(b, cmdAttrDest, func(b []byte) (Destination, error) { return decodeDest(b, svc.Family) })
		out = append(out, d)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w (service %s)", err, svc)
	}
	return out, nil
}

// Timeouts reads the connection timeouts (GET_CONFIG).
func (c *Conn) Timeouts(ctx context.Context) (Timeouts, error) {
	var t Timeouts
	err := c.exec(ctx, CmdGetConfig, nil, 0, func(b []byte) (err error) {
		t, err = decodeTimeouts(b)
		return err
	})
	return t, err
}

// SetTimeouts sets the non-zero timeouts (SET_CONFIG).
func (c *Conn) SetTimeouts(ctx context.Context, t Timeouts) error {
	data, err := encodeTimeouts(t)
	if err != nil {
		return err
	}
	return c.exec(ctx, CmdSetConfig, data, flagAck, nil)
}

// Daemons lists the running sync daemons (GET_DAEMON dump): none, master, backup or
// both.
func (c *Conn) Daemons(ctx context.Context) ([]Daemon, error) {
	var out []Daemon
	err := c.exec(ctx, CmdGetDaemon, nil, flagDump, func(b []byte) error {
		d, err := decodeNested(b, cmdAttrDaemon, decodeDaemon)
		out = append(out, d)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StartDaemon starts a sync daemon (NEW_DAEMON).
func (c *Conn) StartDaemon(ctx context.Context, d Daemon) error {
	return c.daemon(ctx, CmdNewDaemon, d, true)
}

// StopDaemon stops the sync daemon in state (StateMaster or StateBackup).
func (c *Conn) StopDaemon(ctx context.Context, state uint32) error {
	return c.daemon(ctx, CmdDelDaemon, Daemon{State: state}, false)
}

func (c *Conn) daemon(ctx context.Context, cmd Command, d Daemon, full bool) error {
	var a abuf
	if err := a.nest(cmdAttrDaemon, func() error { return appendDaemon(&a, d, full) }); err != nil {
		return err
	}
	if err := c.exec(ctx, cmd, a, flagAck, nil); err != nil {
		return fmt.Errorf("%w (%s sync daemon)", err, StateName(d.State))
	}
	return nil
}

// Flush deletes every service and destination (FLUSH). lvsbox itself never
// flushes; the benchmark and tests do.
func (c *Conn) Flush(ctx context.Context) error { return c.exec(ctx, CmdFlush, nil, flagAck, nil) }

// Zero resets the counters of every service and destination (ZERO).
func (c *Conn) Zero(ctx context.Context) error { return c.exec(ctx, CmdZero, nil, flagAck, nil) }

// Do applies one write request.
func (c *Conn) Do(ctx context.Context, r Request) error {
	return c.Apply(ctx, []Request{r})[0]
}
