package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvsnl"
)

const usage = `usage: ipvsbench [-hostns] COMMAND [flags]

commands:
  info       print the IPVS version and connection table size
  exercise   program every IPVS feature and read it back; one CHECK line each
  bench      time lvsbox's reconciler against ipvsadm -R on large tables

Runs in a private network namespace unless -hostns is given.
`

// run is the whole program; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("ipvsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	hostns := fs.Bool("hostns", false, "run in the caller's network namespace")
	if err := fs.Parse(args); err != nil {
		return 2, nil
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2, nil
	}
	if !*hostns && os.Getenv(envChild) == "" {
		return reexecInNewNetns(args, stdout, stderr)
	}
	if err := setupPrivateNetns(*hostns); err != nil {
		return 1, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "info":
		return 0, info(ctx, stdout)
	case "exercise":
		return exercise(ctx, rest, stdout, stderr)
	case "bench":
		return bench(ctx, rest, stdout, stderr)
	case "bench-phase":
		return benchPhase(ctx, rest, stdout, stderr)
	}
	fs.Usage()
	return 2, fmt.Errorf("unknown command %q", cmd)
}

// open returns the kernel through lvsbox's client, with the batch window.
func open(window int) (*ipvs.Netlink, *ipvsnl.Conn, error) {
	n, err := ipvs.OpenNetlinkConfig(ipvsnl.Config{Window: window})
	if err != nil {
		return nil, nil, err
	}
	c, err := n.Conn()
	if err != nil {
		n.Close()
		return nil, nil, err
	}
	return n, c, nil
}

func info(ctx context.Context, w io.Writer) error {
	n, c, err := open(0)
	if err != nil {
		return err
	}
	defer n.Close()
	i, err := c.Info(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "IPVS version %s, connection table size %d, kernel %s, netlink family %#x\n",
		i.VersionString(), i.ConnTabSize, kernelRelease(), c.Family())
	return nil
}

// waitFor polls cond every 50 ms until it returns nil or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
