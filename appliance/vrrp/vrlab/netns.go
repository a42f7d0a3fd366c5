package vrlab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// Do runs f on an OS thread that has entered the node's network namespace;
// sockets f opens belong to that namespace (and keep working after f
// returns). The thread returns to its own namespace afterwards and goes
// back to the pool: a thread that exits would fire the parent-death signal
// of every process it happened to start.
func (n *Node) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + n.NS)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("vrlab: setns %s: %w", n.NS, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Stuck in the node's namespace: let the thread die with the
			// goroutine (still locked) rather than reuse it.
			errc <- errors.Join(ferr, fmt.Errorf("vrlab: setns back: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Ping sends ICMP echo requests to addr from the node until one is answered
// or timeout passes.
func (n *Node) Ping(addr string, timeout time.Duration) error {
	dst, err := netip.ParseAddr(addr)
	if err != nil {
		return err
	}
	return n.Do(func() error {
		network, laddr, proto := "ip4:icmp", "0.0.0.0", 1
		var typ icmp.Type = ipv4.ICMPTypeEcho
		if dst.Is6() {
			network, laddr, proto, typ = "ip6:ipv6-icmp", "::", 58, ipv6.ICMPTypeEchoRequest
		}
		c, err := icmp.ListenPacket(network, laddr)
		if err != nil {
			return err
		}
		defer c.Close()
		id := os.Getpid() & 0xffff
		buf := make([]byte, 1500)
		end := time.Now().Add(timeout)
		for seq := 1; time.Now().Before(end); seq++ {
			m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("vrlab")}}
			b, err := m.Marshal(nil)
			if err != nil {
				return err
			}
			if _, err := c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
				return err
			}
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			for {
				k, _, err := c.ReadFrom(buf)
				if err != nil {
					break
				}
				r, err := icmp.ParseMessage(proto, buf[:k])
				if err != nil {
					continue
				}
				if e, ok := r.Body.(*icmp.Echo); ok && e.ID == id && (r.Type == ipv4.ICMPTypeEchoReply || r.Type == ipv6.ICMPTypeEchoReply) {
					return nil
				}
			}
		}
		return errors.New("vrlab: ping " + addr + ": no reply")
	})
}
