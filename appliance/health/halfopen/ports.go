package halfopen

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// portRangeFile holds the ephemeral port range both families use.
const portRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// reservation is a block of n consecutive local TCP ports, each bound (not
// listening) by a socket of ours. connect(2) never picks a port bound this way and
// bind(2) fails on it, so no other socket of this host can own a reply to a probe,
// and a reply finds no socket: the kernel answers a SYN-ACK with a RST.
type reservation struct {
	base, n uint16
	fds     []int
}

// reserve binds n consecutive ports of the ephemeral range for the family, trying
// random blocks (randN(k) returns a number in [0, k)).
func reserve(v4 bool, n uint16, randN func(uint32) uint32) (*reservation, error) {
	lo, hi := ephemeralRange()
	if int(hi)-int(lo)+1 < 4*int(n) {
		return nil, fmt.Errorf("ephemeral port range %d-%d too small for %d ports", lo, hi, n)
	}
	for range 64 {
		base := lo + uint16(randN(uint32(hi-lo+1-n)))
		r, err := bindBlock(v4, base, n)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, unix.EADDRINUSE) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no %d free consecutive ports in %d-%d", n, lo, hi)
}

// bindBlock binds base..base+n-1 or nothing.
func bindBlock(v4 bool, base, n uint16) (*reservation, error) {
	r := &reservation{base: base, n: n}
	for i := range n {
		fd, err := bindPort(v4, base+i)
		if err != nil {
			r.close()
			return nil, err
		}
		r.fds = append(r.fds, fd)
	}
	return r, nil
}

func bindPort(v4 bool, port uint16) (int, error) {
	family := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: int(port)}
	if v4 {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: int(port)}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if !v4 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			unix.Close(fd)
			return -1, os.NewSyscallError("setsockopt IPV6_V6ONLY", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind port %d: %w", port, err)
	}
	return fd, nil
}

func (r *reservation) close() {
	for _, fd := range r.fds {
		unix.Close(fd)
	}
	r.fds = nil
}

// ephemeralRange reads the host's ephemeral port range (Linux's default if it
// cannot).
func ephemeralRange() (lo, hi uint16) {
	lo, hi = 32768, 60999
	b, err := os.ReadFile(portRangeFile)
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	l, err1 := strconv.ParseUint(f[0], 10, 16)
	h, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || l == 0 || h < l {
		return lo, hi
	}
	return uint16(l), uint16(h)
}
