package ipvsnl

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// wire moves raw netlink datagrams. The real one reads and writes the socket of a
// netlink.Conn directly: one syscall per datagram into a reused buffer (the
// netlink.Conn path peeks before every read and allocates per message, which costs
// several times more per dump under emulation). Tests use a fake kernel.
type wire interface {
	// send writes one datagram (one or more netlink messages).
	send(b []byte) error
	// recv returns the next datagram; it is valid until the next recv.
	recv() ([]byte, error)
	setDeadline(t time.Time)
	close() error
}

// rawWire is the wire of a real netlink socket.
type rawWire struct {
	nc  *netlink.Conn
	rc  syscall.RawConn
	buf []byte
}

// recvBuffer holds any datagram the kernel sends: dumps fill at most 32 KiB
// (netlink's max_recvmsg_len) per datagram.
const recvBuffer = 64 << 10

func newRawWire(nc *netlink.Conn) (*rawWire, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &rawWire{nc: nc, rc: rc, buf: make([]byte, recvBuffer)}, nil
}

func (w *rawWire) send(b []byte) error {
	var err error
	werr := w.rc.Write(func(fd uintptr) bool {
		err = unix.Sendto(int(fd), b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return err != unix.EAGAIN
	})
	if werr != nil {
		return werr
	}
	return os.NewSyscallError("sendto", err)
}

func (w *rawWire) recv() ([]byte, error) {
	var (
		n, flags int
		err      error
	)
	rerr := w.rc.Read(func(fd uintptr) bool {
		n, _, flags, _, err = unix.Recvmsg(int(fd), w.buf, nil, 0)
		return err != unix.EAGAIN
	})
	if rerr != nil {
		return nil, rerr
	}
	if err != nil {
		return nil, os.NewSyscallError("recvmsg", err)
	}
	if flags&unix.MSG_TRUNC != 0 {
		return nil, errors.New("netlink datagram larger than the receive buffer")
	}
	return w.buf[:n], nil
}

func (w *rawWire) setDeadline(t time.Time) { _ = w.nc.SetDeadline(t) }
func (w *rawWire) close() error            { return w.nc.Close() }

// Netlink message layout (include/uapi/linux/netlink.h).
const (
	nlmsgHdrLen = 16
	genlHdrLen  = 4

	nlmsgError = 2 // NLMSG_ERROR
	nlmsgDone  = 3 // NLMSG_DONE

	flagRequest = 0x1   // NLM_F_REQUEST
	flagMulti   = 0x2   // NLM_F_MULTI
	flagAck     = 0x4   // NLM_F_ACK
	flagDump    = 0x300 // NLM_F_ROOT|NLM_F_MATCH
	flagCapped  = 0x100 // NLM_F_CAPPED (in NLMSG_ERROR)
	flagAckTLVs = 0x200 // NLM_F_ACK_TLVS (in NLMSG_ERROR)

	nlmsgerrAttrMsg = 1 // NLMSGERR_ATTR_MSG
)

// nlmsg is one message of a received datagram; data points into the datagram.
type nlmsg struct {
	typ, flags uint16
	seq        uint32
	data       []byte
}

// appendMessage appends a netlink message holding a generic netlink header and
// attrs to b.
func appendMessage(b []byte, family uint16, flags uint16, seq uint32, cmd Command, attrs []byte) []byte {
	n := nlmsgHdrLen + genlHdrLen + len(attrs)
	b = ne.AppendUint32(b, uint32(n))
	b = ne.AppendUint16(b, family)
	b = ne.AppendUint16(b, flags)
	b = ne.AppendUint32(b, seq)
	b = ne.AppendUint32(b, 0) // port id: the kernel knows ours
	b = append(b, uint8(cmd), familyVersion, 0, 0)
	b = append(b, attrs...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// parseDatagram splits a datagram into messages (appended to msgs[:0]).
func parseDatagram(b []byte, msgs []nlmsg) ([]nlmsg, error) {
	msgs = msgs[:0]
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return nil, fmt.Errorf("netlink: %d trailing bytes", len(b))
		}
		l := int(ne.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return nil, fmt.Errorf("netlink: message length %d of %d bytes", l, len(b))
		}
		msgs = append(msgs, nlmsg{typ: ne.Uint16(b[4:]), flags: ne.Uint16(b[6:]), seq: ne.Uint32(b[8:]), data: b[nlmsgHdrLen:l]})
		b = b[min(nlmsgAlign(l), len(b)):]
	}
	return msgs, nil
}

func nlmsgAlign(n int) int { return (n + 3) &^ 3 }

// errorOf decodes the status of an NLMSG_ERROR (or NLMSG_DONE) message: nil for an
// acknowledgement, else the errno with the kernel's extended ack message if any.
func errorOf(m nlmsg) error {
	if len(m.data) < 4 {
		if m.typ == nlmsgDone {
			return nil
		}
		return errors.New("netlink: short error message")
	}
	errno := int32(ne.Uint32(m.data))
	if errno == 0 {
		return nil
	}
	err := error(syscall.Errno(-errno))
	if m.flags&flagAckTLVs == 0 {
		return err
	}
	off := 4 // the TLVs follow the echoed request: its header, and its payload unless capped
	if m.typ == nlmsgError {
		off += nlmsgHdrLen
		if m.flags&flagCapped == 0 && len(m.data) >= 8 {
			off = 4 + nlmsgAlign(int(ne.Uint32(m.data[4:])))
		}
	}
	if off > len(m.data) {
		return err
	}
	var msg string
	_ = attrs(m.data[off:], func(t uint16, v []byte) error {
		if t == nlmsgerrAttrMsg {
			msg = getString(v)
		}
		return nil
	})
	if msg != "" {
		return fmt.Errorf("%w (%s)", err, msg)
	}
	return err
}
