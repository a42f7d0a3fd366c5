package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// hold keeps one TCP connection to URL open and sends a GET over it every
// interval (HTTP/1.1 keep-alive). It never reconnects: the first failure ends
// it with exit status 1, so a connection a load balancer dropped or moved shows
// as "err". It prints "conn LOCAL->REMOTE" once, then "ok <body>" per answer.
func hold(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("hold", flag.ContinueOnError)
	n := fs.Int("n", 0, "number of requests; 0 loops until SIGTERM/SIGINT")
	interval := fs.Duration("interval", 200*time.Millisecond, "pause between requests")
	timeout := fs.Duration("timeout", 3*time.Second, "per-request timeout (and connect timeout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("hold: want exactly one URL")
	}
	u, err := url.Parse(fs.Arg(0))
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("hold: %q: want an http://HOST[:PORT]/PATH URL", fs.Arg(0))
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	d := net.Dialer{Timeout: *timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	defer conn.Close()
	fmt.Fprintf(stdout, "conn %s->%s\n", conn.LocalAddr(), conn.RemoteAddr())
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	t := &tally{w: stdout}
	br := bufio.NewReader(conn)
	for i := 0; *n == 0 || i < *n; i++ {
		body, err := holdRequest(conn, br, u, *timeout)
		if ctx.Err() != nil {
			break // interrupted: not a failure of the connection
		}
		t.record(body, err)
		if err != nil {
			break // the connection is unusable now; never reconnect
		}
		select {
		case <-ctx.Done():
		case <-time.After(*interval):
		}
		if ctx.Err() != nil {
			break
		}
	}
	return t.summary()
}

// holdRequest sends one GET on conn and reads the answer from br.
func holdRequest(conn net.Conn, br *bufio.Reader, u *url.URL, timeout time.Duration) (string, error) {
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "labsrv-hold")
	if err := req.Write(conn); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	if resp.Close {
		return "", errors.New("server closed the connection")
	}
	return strings.TrimSpace(string(b)), nil
}
