package vrnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
)

// Link-level drop reasons besides vrrp's receive-check reasons.
const (
	// ReasonOverrun: the instance's queue was full (its goroutine is stuck).
	ReasonOverrun vrrp.Reason = "overrun"
	// ReasonInterface: the message came in on another interface.
	ReasonInterface vrrp.Reason = "interface"
)

// Inbound is a message that passed vrrp.Decode, for the instance of its VRID.
type Inbound struct {
	Verdict vrrp.Verdict // accepted by Decode; the instance runs CheckDecoded
	Dst     netip.Addr   // IP destination: the group, or ours (unicast)
	At      time.Time    // when it was read
}

// Deliver hands a message to an instance; it must not block and returns
// false when the instance cannot take it now (counted as overrun).
type Deliver func(Inbound) bool

// LinkStats are the counters of one socket.
type LinkStats struct {
	Received  uint64                 // messages read
	Delivered uint64                 // handed to an instance
	Dropped   map[vrrp.Reason]uint64 // by reason (Decode reasons, vrid, overrun, interface)
	Errors    uint64                 // read errors
}

// Demux reads a Conn and dispatches by VRID.
type Demux struct {
	conn    Conn
	ifindex int // 0: do not check

	mu      sync.RWMutex
	targets map[uint8]Deliver

	received, delivered, errs atomic.Uint64
	dmu                       sync.Mutex
	dropped                   map[vrrp.Reason]uint64
}

// NewDemux returns a Demux over conn; ifindex, if not 0, drops messages that
// arrive on another interface.
func NewDemux(conn Conn, ifindex int) *Demux {
	return &Demux{conn: conn, ifindex: ifindex, targets: map[uint8]Deliver{}, dropped: map[vrrp.Reason]uint64{}}
}

// Conn is the socket (instances send through it).
func (d *Demux) Conn() Conn { return d.conn }

// Register routes messages for vrid to deliver; the returned function
// removes it. A VRID can be registered once.
func (d *Demux) Register(vrid uint8, deliver Deliver) (unregister func(), err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, dup := d.targets[vrid]; dup {
		return nil, fmt.Errorf("vrnet: vrid %d registered twice on one socket", vrid)
	}
	d.targets[vrid] = deliver
	return func() {
		d.mu.Lock()
		delete(d.targets, vrid)
		d.mu.Unlock()
	}, nil
}

// Run reads until the Conn is closed (it returns nil then) or fails
// persistently.
func (d *Demux) Run() error {
	buf := make([]byte, 65536)
	consecutive := 0
	for {
		m, err := d.conn.Receive(buf)
		if err != nil {
			if errors.Is(err, ErrClosed) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			d.errs.Add(1)
			if consecutive++; consecutive > 100 {
				return fmt.Errorf("vrnet: receive: %w", err)
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		consecutive = 0
		d.Handle(m)
	}
}

// Handle runs Decode on one message and dispatches it.
func (d *Demux) Handle(m Message) {
	d.received.Add(1)
	if d.ifindex != 0 && m.IfIndex != 0 && m.IfIndex != d.ifindex {
		d.drop(ReasonInterface)
		return
	}
	v := vrrp.Decode(m.Received)
	if !v.Accepted() {
		d.drop(v.Drop)
		return
	}
	d.mu.RLock()
	deliver := d.targets[v.Packet.VRID]
	d.mu.RUnlock()
	if deliver == nil {
		d.drop(vrrp.ReasonVRID)
		return
	}
	if !deliver(Inbound{Verdict: v, Dst: m.Dst.Unmap(), At: m.At}) {
		d.drop(ReasonOverrun)
		return
	}
	d.delivered.Add(1)
}

func (d *Demux) drop(r vrrp.Reason) {
	d.dmu.Lock()
	d.dropped[r]++
	d.dmu.Unlock()
}

// Stats returns the counters.
func (d *Demux) Stats() LinkStats {
	s := LinkStats{Received: d.received.Load(), Delivered: d.delivered.Load(), Errors: d.errs.Load(),
		Dropped: map[vrrp.Reason]uint64{}}
	d.dmu.Lock()
	for k, v := range d.dropped {
		s.Dropped[k] = v
	}
	d.dmu.Unlock()
	return s
}

// ErrClosed is what fake Conns return after Close (real ones return an error
// wrapping net.ErrClosed); Demux.Run ends quietly on either.
var ErrClosed = errors.New("vrnet: connection closed")
