package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The exercise's network, inside the private namespace (the "director"): a veth
// pair to a second namespace holding the real servers, and the VIP on lo, so that
// connections made here go through IPVS (LOCAL_OUT) with NAT to the real servers
// and their replies come back over the veth -- the way kube-proxy's IPVS mode
// serves local clients.
const (
	labDirIf   = "vd0"
	labRSIf    = "vr0"
	labDirAddr = "198.51.100.1/24"
	labGW      = "198.51.100.1"
	labVIP     = "192.0.2.100"
)

// labRS are the real servers: name and address.
var labRS = []struct{ name, addr string }{{"rs1", "198.51.100.11"}, {"rs2", "198.51.100.12"}}

// lab is the running exercise network.
type lab struct {
	rsNS      netns.NsHandle
	listeners []net.Listener
	wg        sync.WaitGroup
}

// newLab builds the network and starts one echo server per real server on port 80:
// it greets with its name and a newline, then echoes every line.
func newLab() (*lab, error) {
	l := &lab{}
	if err := l.setup(); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *lab) setup() error {
	rs, err := newNamespace()
	if err != nil {
		return fmt.Errorf("real-server namespace: %w", err)
	}
	l.rsNS = rs
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: labDirIf}, PeerName: labRSIf}); err != nil {
		return fmt.Errorf("veth: %w", err)
	}
	peer, err := netlink.LinkByName(labRSIf)
	if err != nil {
		return fmt.Errorf("veth peer: %w", err)
	}
	if err := netlink.LinkSetNsFd(peer, int(rs)); err != nil {
		return fmt.Errorf("move %s: %w", labRSIf, err)
	}
	dir, err := netlink.LinkByName(labDirIf)
	if err != nil {
		return fmt.Errorf("veth: %w", err)
	}
	if err := addrAdd(nil, dir, labDirAddr); err != nil {
		return err
	}
	if err := netlink.LinkSetUp(dir); err != nil {
		return fmt.Errorf("%s up: %w", labDirIf, err)
	}
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	if err := addrAdd(nil, lo, labVIP+"/32"); err != nil {
		return err
	}

	h, err := netlink.NewHandleAt(rs, unix.NETLINK_ROUTE) // the guest has no xfrm_user
	if err != nil {
		return fmt.Errorf("netlink in the real-server namespace: %w", err)
	}
	defer h.Close()
	for _, name := range []string{"lo", labRSIf} {
		link, err := h.LinkByName(name)
		if err != nil {
			return fmt.Errorf("real-server namespace: %w", err)
		}
		if name == labRSIf {
			for _, r := range labRS {
				if err := addrAdd(h, link, r.addr+"/24"); err != nil {
					return err
				}
			}
		}
		if err := h.LinkSetUp(link); err != nil {
			return fmt.Errorf("real-server namespace: %s up: %w", name, err)
		}
	}
	if err := h.RouteAdd(&netlink.Route{Gw: net.ParseIP(labGW)}); err != nil {
		return fmt.Errorf("real-server default route: %w", err)
	}
	for _, r := range labRS {
		ln, err := listenIn(rs, net.JoinHostPort(r.addr, "80"))
		if err != nil {
			return fmt.Errorf("listen in the real-server namespace: %w", err)
		}
		l.listeners = append(l.listeners, ln)
		l.wg.Add(1)
		go l.serve(ln, r.name)
	}
	return nil
}

func addrAdd(h *netlink.Handle, link netlink.Link, cidr string) error {
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	if h == nil {
		err = netlink.AddrAdd(link, a)
	} else {
		err = h.AddrAdd(link, a)
	}
	if err != nil {
		return fmt.Errorf("address %s on %s: %w", cidr, link.Attrs().Name, err)
	}
	return nil
}

// newNamespace creates a network namespace and returns a handle to it, leaving the
// calling thread in its own namespace.
func newNamespace() (netns.NsHandle, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return 0, err
	}
	defer orig.Close()
	ns, err := netns.New()
	if err != nil {
		return 0, err
	}
	if err := netns.Set(orig); err != nil {
		ns.Close()
		return 0, err
	}
	return ns, nil
}

// listenIn opens a TCP listener inside ns (the socket stays in ns).
func listenIn(ns netns.NsHandle, addr string) (net.Listener, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, err
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		return nil, err
	}
	ln, lerr := net.Listen("tcp", addr)
	if err := netns.Set(orig); err != nil {
		panic(fmt.Sprintf("cannot return to the original network namespace: %v", err))
	}
	return ln, lerr
}

func (l *lab) serve(ln net.Listener, name string) {
	defer l.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if _, err := io.WriteString(c, name+"\n"); err != nil {
				return
			}
			_, _ = io.Copy(c, c)
		}()
	}
}

func (l *lab) close() {
	for _, ln := range l.listeners {
		ln.Close()
	}
	l.wg.Wait()
	if l.rsNS != 0 {
		l.rsNS.Close()
	}
}

// session is an open connection to the VIP.
type session struct {
	c  net.Conn
	r  *bufio.Reader
	rs string // the real server that answered
}

// dialVIP connects to the VIP and reads the real server's greeting.
func dialVIP(addr netip.AddrPort) (*session, error) {
	c, err := net.DialTimeout("tcp", addr.String(), dialTimeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(timeNow().Add(dialTimeout))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting from %s: %w", addr, err)
	}
	return &session{c: c, r: r, rs: strings.TrimSpace(line)}, nil
}

// echo sends a line and expects it back.
func (s *session) echo(line string) error {
	_ = s.c.SetDeadline(timeNow().Add(dialTimeout))
	if _, err := io.WriteString(s.c, line+"\n"); err != nil {
		return err
	}
	got, err := s.r.ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(got) != line {
		return fmt.Errorf("echo %q, got %q", line, got)
	}
	return nil
}
