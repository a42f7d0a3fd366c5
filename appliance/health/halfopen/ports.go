package halfopen

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// reservation is a set of local TCP ports, each bound (not listening) by a socket
// of ours. connect(2) never picks a port bound this way and bind(2) fails on it, so
// no other socket of this host can own a reply to a probe, and a reply finds no
// socket: the kernel answers a SYN-ACK with a RST.
//
// The kernel picks the ports (bind to port 0): it skips ports in use, including
// those held by TIME_WAIT connections, which a host running thousands of checks
// can have by the ten thousand.
type reservation struct {
	ports []uint16
	fds   []int
}

// reserve binds n ports of the ephemeral range for the family.
func reserve(v4 bool, n int) (*reservation, error) {
	r := &reservation{}
	for range n {
		fd, port, err := bindPort(v4)
		if err != nil {
			r.close()
			return nil, err
		}
		r.fds = append(r.fds, fd)
		r.ports = append(r.ports, port)
	}
	return r, nil
}

func bindPort(v4 bool) (int, uint16, error) {
	family := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{}
	if v4 {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, os.NewSyscallError("socket", err)
	}
	fail := func(what string, err error) (int, uint16, error) {
		unix.Close(fd)
		return -1, 0, os.NewSyscallError(what, err)
	}
	if !v4 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			return fail("setsockopt IPV6_V6ONLY", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		return fd, uint16(a.Port), nil
	case *unix.SockaddrInet6:
		return fd, uint16(a.Port), nil
	}
	unix.Close(fd)
	return -1, 0, fmt.Errorf("bound to %T", got)
}

func (r *reservation) close() {
	for _, fd := range r.fds {
		unix.Close(fd)
	}
	r.fds = nil
}
