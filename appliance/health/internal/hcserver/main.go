package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hcserver:", err)
		os.Exit(1)
	}
}

func run() error {
	mode := flag.String("mode", "http", "tcp (accept and close) or http")
	listen := flag.String("listen", "", "comma-separated addresses (host:port) to listen on")
	first := flag.String("first", "", "first address of a range of -n addresses (with -port)")
	n := flag.Int("n", 0, "number of addresses in the range")
	port := flag.Int("port", 80, "port for the range")
	flag.Parse()

	addrs, err := addresses(*listen, *first, *n, *port)
	if err != nil {
		return err
	}
	if *mode != "tcp" && *mode != "http" {
		return fmt.Errorf("-mode %q: want tcp or http", *mode)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	ls := make([]net.Listener, 0, len(addrs))
	// Plain TCP like the servers an appliance checks (nginx, Apache, ...): Go's
	// listeners default to MPTCP, whose SYN handling costs more on both ends.
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	for _, a := range addrs {
		l, err := lc.Listen(ctx, "tcp", a)
		if err != nil {
			return fmt.Errorf("listen %s: %w", a, err)
		}
		ls = append(ls, l)
	}
	srv := &http.Server{Handler: http.HandlerFunc(handle), ReadHeaderTimeout: 5 * time.Second}
	srv.SetKeepAlivesEnabled(false)
	for _, l := range ls {
		if *mode == "tcp" {
			go acceptClose(l)
		} else {
			go srv.Serve(l)
		}
	}
	fmt.Printf("ready %d %s listeners\n", len(ls), *mode)
	<-ctx.Done()
	for _, l := range ls {
		l.Close()
	}
	return nil
}

func handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/down" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, "ok")
}

func acceptClose(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		c.Close()
	}
}

// addresses expands -listen or -first/-n/-port.
func addresses(listen, first string, n, port int) ([]string, error) {
	if listen != "" {
		return strings.Split(listen, ","), nil
	}
	a, err := netip.ParseAddr(first)
	if err != nil || n <= 0 {
		return nil, errors.New("need -listen, or -first and -n")
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, netip.AddrPortFrom(a, uint16(port)).String())
		a = a.Next()
	}
	return out, nil
}
