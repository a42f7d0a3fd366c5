package vrnet

import (
	"net/netip"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
)

// Message is one VRRP message as received: the IP facts the receive checks
// need, the interface it came in on, and when it was read.
type Message struct {
	vrrp.Received
	IfIndex int
	At      time.Time
}

// Conn is a VRRP socket on one interface for one address family.
type Conn interface {
	// Receive blocks for the next message; Payload aliases buf.
	Receive(buf []byte) (Message, error)
	// Send sends one VRRP message (the IP payload) from src to dst (the
	// group or a unicast peer) with TTL / hop limit 255.
	Send(payload []byte, src, dst netip.Addr) error
	// Pending reports whether a message waits in the socket, not read yet
	// (a starved reader): a takeover waits for it briefly.
	Pending() bool
	// Close ends Receive with an error.
	Close() error
}
