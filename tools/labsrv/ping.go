package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// echoRequest builds ICMP echo request seq of identifier id.
func echoRequest(id, seq int) ([]byte, error) {
	m := icmp.Message{
		Type: ipv4.ICMPTypeEcho,
		Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("labsrv")},
	}
	return m.Marshal(nil)
}

// isEchoReply reports whether b (an ICMP message without IP header) is the
// reply to echo request (id, seq).
func isEchoReply(b []byte, id, seq int) bool {
	m, err := icmp.ParseMessage(1, b)
	if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
		return false
	}
	e, ok := m.Body.(*icmp.Echo)
	return ok && e.ID == id && e.Seq == seq
}

func ping(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	count := fs.Int("c", 3, "echo requests to send")
	timeout := fs.Duration("timeout", 2*time.Second, "wait per request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("ping: want exactly one address")
	}
	dst, err := net.ResolveIPAddr("ip4", fs.Arg(0))
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	conn, err := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	defer conn.Close()
	id := os.Getpid() & 0xffff
	got := 0
	buf := make([]byte, 1500)
	for seq := 1; seq <= *count && ctx.Err() == nil; seq++ {
		req, err := echoRequest(id, seq)
		if err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		start := time.Now()
		if _, err := conn.WriteTo(req, dst); err != nil {
			return fmt.Errorf("ping: send: %w", err)
		}
		if err := conn.SetReadDeadline(start.Add(*timeout)); err != nil {
			return fmt.Errorf("ping: %w", err)
		}
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				fmt.Fprintf(stdout, "seq=%d timeout\n", seq)
				break
			}
			if from.String() == dst.String() && isEchoReply(buf[:n], id, seq) {
				got++
				fmt.Fprintf(stdout, "seq=%d reply from %s in %v\n", seq, from, time.Since(start).Round(time.Microsecond))
				break
			}
		}
	}
	fmt.Fprintf(stdout, "summary sent=%d received=%d\n", *count, got)
	if got == 0 {
		return fmt.Errorf("ping: no reply from %s", dst)
	}
	return nil
}
