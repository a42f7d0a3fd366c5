package vrnettest

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet"
)

// Segment connects Conns. The zero value is ready.
type Segment struct {
	mu    sync.Mutex
	conns []*Conn
	cut   map[*Conn]bool
}

// Conn is one attached socket.
type Conn struct {
	seg     *Segment
	addr    netip.Addr
	ifindex int
	in      chan vrnet.Message
	done    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	sent []Sent
}

// Sent records one Send.
type Sent struct {
	Src, Dst netip.Addr
	Payload  []byte
	At       time.Time
}

// Attach adds a socket whose unicast address is addr.
func (s *Segment) Attach(addr netip.Addr, ifindex int) *Conn {
	c := &Conn{seg: s, addr: addr, ifindex: ifindex, in: make(chan vrnet.Message, 1024), done: make(chan struct{})}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	return c
}

// Cut partitions c from the segment (true) or reconnects it (false).
func (s *Segment) Cut(c *Conn, cut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut == nil {
		s.cut = map[*Conn]bool{}
	}
	s.cut[c] = cut
}

// Receive implements vrnet.Conn.
func (c *Conn) Receive(buf []byte) (vrnet.Message, error) {
	select {
	case m := <-c.in:
		n := copy(buf, m.Payload)
		m.Payload = buf[:n]
		return m, nil
	case <-c.done:
		return vrnet.Message{}, vrnet.ErrClosed
	}
}

// Send implements vrnet.Conn.
func (c *Conn) Send(payload []byte, src, dst netip.Addr) error {
	now := time.Now()
	c.mu.Lock()
	c.sent = append(c.sent, Sent{Src: src, Dst: dst, Payload: slices.Clone(payload), At: now})
	c.mu.Unlock()
	s := c.seg
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cut[c] {
		return nil
	}
	for _, o := range s.conns {
		if o == c || s.cut[o] {
			continue
		}
		if !dst.IsMulticast() && dst != o.addr {
			continue
		}
		select {
		case <-o.done:
		case o.in <- vrnet.Message{Received: vrrp.Received{TTL: vrrp.TTL, Src: src, Dst: dst, Payload: slices.Clone(payload)}, IfIndex: o.ifindex, At: now}:
		default: // full: lost, like a real socket
		}
	}
	return nil
}

// Sent returns what c has sent so far.
func (c *Conn) Sent() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

// Pending implements vrnet.Conn.
func (c *Conn) Pending() bool { return len(c.in) > 0 }

// Close implements vrnet.Conn.
func (c *Conn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}
