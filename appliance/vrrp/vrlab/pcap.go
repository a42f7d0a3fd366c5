package vrlab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
)

// Frame is one captured Ethernet frame, decoded as far as the lab needs.
type Frame struct {
	At     time.Time
	SrcMAC net.HardwareAddr
	Kind   string // "vrrp", "arp", "na", "other"
	// VRRP: the IP facts and payload; ARP: sender IP; NA: target.
	Received vrrp.Received
	ARPFrom  netip.Addr // ARP sender protocol address
	NATarget netip.Addr
}

// ReadPcap decodes a classic pcap file (micro- or nanosecond, Ethernet).
func ReadPcap(b []byte) ([]Frame, error) {
	if len(b) < 24 {
		return nil, errors.New("vrlab: pcap too short")
	}
	var bo binary.ByteOrder = binary.LittleEndian
	magic := bo.Uint32(b)
	nano := false
	switch magic {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		nano = true
	default:
		bo = binary.BigEndian
		switch bo.Uint32(b) {
		case 0xa1b2c3d4:
		case 0xa1b23c4d:
			nano = true
		default:
			return nil, fmt.Errorf("vrlab: pcap magic %#x", magic)
		}
	}
	if lt := bo.Uint32(b[20:]); lt != 1 {
		return nil, fmt.Errorf("vrlab: pcap link type %d, want Ethernet", lt)
	}
	var out []Frame
	for off := 24; off+16 <= len(b); {
		sec, frac := bo.Uint32(b[off:]), bo.Uint32(b[off+4:])
		incl := int(bo.Uint32(b[off+8:]))
		off += 16
		if off+incl > len(b) {
			break // half-written last record
		}
		ns := int64(frac) * 1000
		if nano {
			ns = int64(frac)
		}
		f := decodeFrame(b[off : off+incl])
		f.At = time.Unix(int64(sec), ns)
		out = append(out, f)
		off += incl
	}
	return out, nil
}

func decodeFrame(p []byte) Frame {
	f := Frame{Kind: "other"}
	if len(p) < 14 {
		return f
	}
	f.SrcMAC = net.HardwareAddr(append([]byte(nil), p[6:12]...))
	et, pl := binary.BigEndian.Uint16(p[12:]), p[14:]
	switch et {
	case 0x0806:
		if len(pl) >= 28 {
			f.Kind = "arp"
			f.ARPFrom = netip.AddrFrom4([4]byte(pl[14:18]))
		}
	case 0x0800:
		if len(pl) < 20 || pl[9] != vrrp.IPProtocol {
			return f
		}
		ihl := int(pl[0]&0x0f) * 4
		tot := int(binary.BigEndian.Uint16(pl[2:]))
		if tot > len(pl) || ihl > tot {
			return f
		}
		f.Kind = "vrrp"
		f.Received = vrrp.Received{TTL: pl[8], Src: netip.AddrFrom4([4]byte(pl[12:16])), Dst: netip.AddrFrom4([4]byte(pl[16:20])),
			Payload: append([]byte(nil), pl[ihl:tot]...)}
	case 0x86dd:
		if len(pl) < 40 {
			return f
		}
		n := int(binary.BigEndian.Uint16(pl[4:]))
		if 40+n > len(pl) {
			return f
		}
		body := pl[40 : 40+n]
		switch pl[6] {
		case vrrp.IPProtocol:
			f.Kind = "vrrp"
			f.Received = vrrp.Received{TTL: pl[7], Src: netip.AddrFrom16([16]byte(pl[8:24])), Dst: netip.AddrFrom16([16]byte(pl[24:40])),
				Payload: append([]byte(nil), body...)}
		case 58:
			if len(body) >= 24 && body[0] == 136 {
				f.Kind = "na"
				f.NATarget = netip.AddrFrom16([16]byte(body[8:24]))
			}
		}
	}
	return f
}

// Capture is a tcpdump running in a node.
type Capture struct {
	*Proc
	File string
}

// StartCapture runs tcpdump on dev in the node (nanosecond timestamps,
// unbuffered) with a BPF filter, and returns once it listens.
func (n *Node) StartCapture(name, dev, filter string) (*Capture, error) {
	file := filepath.Join(n.lab.Dir, n.Name+"-"+name+".pcap")
	// -Z root: no privilege drop, which would clear the parent-death
	// signal and let tcpdump outlive a killed test.
	p, err := n.Start(name, "tcpdump", "-Z", "root", "-i", dev, "-U", "-n", "--time-stamp-precision=nano", "-w", file, filter)
	if err != nil {
		return nil, err
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if strings.Contains(p.Output(), "listening on") {
			return &Capture{Proc: p, File: file}, nil
		}
		if p.Exited() || time.Now().After(end) {
			p.Stop(time.Second)
			return nil, fmt.Errorf("vrlab: tcpdump in %s did not start:\n%s", n.Name, p.Output())
		}
	}
}

// Frames decodes what was captured so far.
func (c *Capture) Frames() ([]Frame, error) {
	b, err := os.ReadFile(c.File)
	if err != nil {
		return nil, err
	}
	return ReadPcap(b)
}
