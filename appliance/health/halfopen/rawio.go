package halfopen

import (
	"encoding/binary"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// sockBuf is the receive and send buffer asked for the raw socket.
const sockBuf = 1 << 20

// openRaw opens the family's raw TCP socket: non-blocking (it is polled, see
// pollEvery), with kernel receive timestamps, and for IPv6 the kernel filling in
// the TCP checksum (offset 16) for the source it picks.
func openRaw(v4 bool) (int, error) {
	family := unix.AF_INET6
	if v4 {
		family = unix.AF_INET
	}
	fd, err := unix.Socket(family, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, os.NewSyscallError("raw socket", err)
	}
	for _, o := range []struct {
		level, opt, value int
		name              string
		optional          bool
	}{
		{unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, sockBuf, "SO_RCVBUFFORCE", true},
		{unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, sockBuf, "SO_SNDBUFFORCE", true},
		{unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS", false},
		{unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM, 16, "IPV6_CHECKSUM", false},
	} {
		if o.level == unix.IPPROTO_IPV6 && v4 {
			continue
		}
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.value); err != nil && !o.optional {
			unix.Close(fd)
			return -1, os.NewSyscallError("setsockopt "+o.name, err)
		}
	}
	return fd, nil
}

// attachFilter sets prog as fd's socket filter and drops what was queued before.
func attachFilter(fd int, prog []bpf.RawInstruction) error {
	f := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		f[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fp := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
		return os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err)
	}
	var buf [64]byte
	for {
		if _, _, err := unix.Recvfrom(fd, buf[:], unix.MSG_DONTWAIT); err != nil {
			return nil
		}
	}
}

// sendSYN sends pkt to dst. An IPv4 source is pinned with IP_PKTINFO (the
// checksum covers it); an IPv6 one only when src is set.
func sendSYN(fd int, pkt []byte, src netip.Addr, dst netip.AddrPort) error {
	var oob [64]byte
	var n int
	var sa unix.Sockaddr
	if a := dst.Addr(); a.Is4() {
		sa = &unix.SockaddrInet4{Addr: a.As4()}
		n = putPktinfo4(oob[:], src)
	} else {
		sa6 := &unix.SockaddrInet6{Addr: a.As16()}
		if z := a.Zone(); z != "" {
			sa6.ZoneId = zoneID(z)
		}
		sa = sa6
		if src.IsValid() {
			n = putPktinfo6(oob[:], src)
		}
	}
	if _, err := unix.SendmsgN(fd, pkt, oob[:n], sa, 0); err != nil {
		return os.NewSyscallError("sendmsg", err)
	}
	return nil
}

// putPktinfo4 writes an IP_PKTINFO control message with source src into b.
func putPktinfo4(b []byte, src netip.Addr) int {
	var info unix.Inet4Pktinfo
	info.Spec_dst = src.As4()
	return putCmsg(b, unix.IPPROTO_IP, unix.IP_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&info)), unix.SizeofInet4Pktinfo))
}

// putPktinfo6 writes an IPV6_PKTINFO control message with source src into b.
func putPktinfo6(b []byte, src netip.Addr) int {
	var info unix.Inet6Pktinfo
	info.Addr = src.As16()
	if z := src.Zone(); z != "" {
		info.Ifindex = zoneID(z)
	}
	return putCmsg(b, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unsafe.Slice((*byte)(unsafe.Pointer(&info)), unix.SizeofInet6Pktinfo))
}

func putCmsg(b []byte, level, typ int, data []byte) int {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return unix.CmsgSpace(len(data))
}

// receiver holds the buffers of one recvmmsg batch.
type receiver struct {
	v4    bool
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	bufs  [][rxBuf]byte
	names []unix.RawSockaddrInet6
	oobs  [][rxOOB]byte
}

const (
	rxBatch = 64
	rxBuf   = 128 // headers are enough
	rxOOB   = 64  // one SCM_TIMESTAMPNS
)

// mmsghdr is struct mmsghdr (padded to the pointer size by Go as by C).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

func newReceiver(v4 bool) *receiver {
	r := &receiver{v4: v4, hdrs: make([]mmsghdr, rxBatch), iovs: make([]unix.Iovec, rxBatch),
		bufs: make([][rxBuf]byte, rxBatch), names: make([]unix.RawSockaddrInet6, rxBatch), oobs: make([][rxOOB]byte, rxBatch)}
	for i := range r.hdrs {
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(rxBuf)
		h := &r.hdrs[i].hdr
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
	}
	return r
}

// read receives up to rxBatch queued segments without waiting.
func (r *receiver) read(fd int) (int, error) {
	for i := range r.hdrs {
		h := &r.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Namelen = unix.SizeofSockaddrInet6
		h.Control = &r.oobs[i][0]
		h.SetControllen(rxOOB)
		h.Flags = 0
		r.hdrs[i].n = 0
	}
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// reply parses segment i of the last read.
func (r *receiver) reply(i int) (reply, bool) {
	b := r.bufs[i][:min(int(r.hdrs[i].n), rxBuf)]
	if r.v4 {
		return parseIPv4(b)
	}
	sa := &r.names[i]
	if sa.Family != unix.AF_INET6 {
		return reply{}, false
	}
	src := netip.AddrFrom16(sa.Addr)
	if sa.Scope_id != 0 && src.IsLinkLocalUnicast() {
		src = src.WithZone(zoneName(sa.Scope_id))
	}
	return parseTCP(b, src)
}

// stamp returns the kernel receive time of segment i (zero if absent).
func (r *receiver) stamp(i int) time.Time {
	h := &r.hdrs[i].hdr
	oob := r.oobs[i][:min(int(h.Controllen), rxOOB)]
	for len(oob) >= unix.CmsgLen(0) {
		c := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(c.Len)
		if l < unix.CmsgLen(0) || l > len(oob) {
			break
		}
		if c.Level == unix.SOL_SOCKET && c.Type == unix.SCM_TIMESTAMPNS && l >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			d := oob[unix.CmsgLen(0):]
			sec := int64(binary.NativeEndian.Uint64(d[0:]))
			nsec := int64(binary.NativeEndian.Uint64(d[8:]))
			return time.Unix(sec, nsec)
		}
		oob = oob[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(oob)):]
	}
	return time.Time{}
}

// disconnect dissolves a UDP socket's association (connect(2) to AF_UNSPEC), which
// also forgets the source address the last connect picked.
func disconnect(fd int) {
	sa := unix.RawSockaddrInet4{Family: unix.AF_UNSPEC}
	_, _, _ = unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
}
