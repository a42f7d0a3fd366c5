package checker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// ICMPMode selects the socket an icmp check uses.
type ICMPMode int32

// ICMP socket kinds.
const (
	// ICMPAuto tries an unprivileged ping socket first and falls back to a raw
	// socket when the kernel refuses it (net.ipv4.ping_group_range); the choice is
	// remembered by the checker.
	ICMPAuto ICMPMode = iota
	// ICMPPing uses only ping sockets ("udp4"/"udp6" in golang.org/x/net/icmp).
	ICMPPing
	// ICMPRaw uses only raw sockets ("ip4:icmp"/"ip6:ipv6-icmp"; needs CAP_NET_RAW).
	ICMPRaw
)

func (m ICMPMode) String() string {
	switch m {
	case ICMPPing:
		return "ping"
	case ICMPRaw:
		return "raw"
	}
	return "auto"
}

// icmpChecker sends one echo request per attempt on a fresh socket and passes on
// the matching echo reply (same sequence and random payload; same ID on raw
// sockets, where the kernel does not filter).
type icmpChecker struct {
	base
	mode     ICMPMode
	resolved atomic.Int32 // for ICMPAuto: the mode that worked, 0 until known
	id       int
	seq      atomic.Uint32
}

func newICMP(b base, mode ICMPMode) *icmpChecker {
	var r [2]byte
	_, _ = rand.Read(r[:])
	return &icmpChecker{base: b, mode: mode, id: int(binary.BigEndian.Uint16(r[:]))}
}

// listen opens the socket of the configured (or remembered) mode.
func (c *icmpChecker) listen(v4 bool) (*icmp.PacketConn, ICMPMode, error) {
	src := "0.0.0.0"
	if !v4 {
		src = "::"
	}
	if c.spec.Source.IsValid() {
		src = c.spec.Source.String()
	}
	open := func(m ICMPMode) (*icmp.PacketConn, error) {
		network := "ip6:ipv6-icmp"
		switch {
		case v4 && m == ICMPPing:
			network = "udp4"
		case v4:
			network = "ip4:icmp"
		case m == ICMPPing:
			network = "udp6"
		}
		return icmp.ListenPacket(network, src)
	}
	mode := c.mode
	if mode == ICMPAuto {
		mode = ICMPMode(c.resolved.Load())
	}
	if mode != ICMPAuto {
		conn, err := open(mode)
		return conn, mode, err
	}
	conn, err := open(ICMPPing)
	if err == nil {
		c.resolved.Store(int32(ICMPPing))
		return conn, ICMPPing, nil
	}
	if !errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EPROTONOSUPPORT) {
		return nil, ICMPPing, err
	}
	conn, rawErr := open(ICMPRaw)
	if rawErr != nil {
		return nil, ICMPRaw, fmt.Errorf("neither a ping socket (%v; see net.ipv4.ping_group_range) nor a raw socket (%v) is allowed", err, rawErr)
	}
	c.resolved.Store(int32(ICMPRaw))
	return conn, ICMPRaw, nil
}

func (c *icmpChecker) Check(ctx context.Context) health.Result {
	ctx, cancel, start := c.attempt(ctx)
	defer cancel()
	ip := c.target.Addr()
	v4 := ip.Is4()
	conn, mode, err := c.listen(v4)
	if err != nil {
		return fail(start, "icmp: %s", describe(err, "", c.spec.Timeout))
	}
	defer conn.Close()
	defer watch(ctx, conn)()

	seq := int(c.seq.Add(1) & 0xffff)
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	var typ icmp.Type = ipv4.ICMPTypeEcho
	proto := 1
	if !v4 {
		typ, proto = ipv6.ICMPTypeEchoRequest, 58
	}
	req, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: c.id, Seq: seq, Data: nonce}}).Marshal(nil)
	if err != nil {
		return fail(start, "icmp: %v", err)
	}
	var dst net.Addr = &net.IPAddr{IP: ip.AsSlice()}
	if mode == ICMPPing {
		dst = &net.UDPAddr{IP: ip.AsSlice()}
	}
	if _, err := conn.WriteTo(req, dst); err != nil {
		return fail(start, "%s", describe(err, "send", c.spec.Timeout))
	}
	buf := make([]byte, 1500)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			if isTimeout(err) {
				return fail(start, "timeout after %s: no ICMP echo reply", c.spec.Timeout)
			}
			return fail(start, "%s", describe(err, "receive", c.spec.Timeout))
		}
		msg, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		switch body := msg.Body.(type) {
		case *icmp.Echo:
			if msg.Type != ipv4.ICMPTypeEchoReply && msg.Type != ipv6.ICMPTypeEchoReply {
				continue
			}
			if body.Seq != seq || !bytes.Equal(body.Data, nonce) || (mode == ICMPRaw && body.ID != c.id) {
				continue
			}
			return pass(start, "ICMP echo reply from "+ip.String())
		case *icmp.DstUnreach:
			if c.quotesOurs(body.Data, v4, seq) {
				return fail(start, "ICMP destination unreachable (code %d) from %s", msg.Code, peerIP(peer))
			}
		case *icmp.TimeExceeded:
			if c.quotesOurs(body.Data, v4, seq) {
				return fail(start, "ICMP time exceeded from %s", peerIP(peer))
			}
		}
	}
}

// quotesOurs reports whether an ICMP error quotes our echo request (IP header, then
// type, code, checksum, ID, sequence).
func (c *icmpChecker) quotesOurs(data []byte, v4 bool, seq int) bool {
	hl := 40
	if v4 {
		if len(data) < 1 {
			return false
		}
		hl = int(data[0]&0x0f) * 4
	}
	if len(data) < hl+8 {
		return false
	}
	echo := data[hl:]
	return int(binary.BigEndian.Uint16(echo[4:6])) == c.id && int(binary.BigEndian.Uint16(echo[6:8])) == seq
}

func peerIP(a net.Addr) string {
	switch a := a.(type) {
	case *net.IPAddr:
		return a.IP.String()
	case *net.UDPAddr:
		return a.IP.String()
	}
	return fmt.Sprint(a)
}
