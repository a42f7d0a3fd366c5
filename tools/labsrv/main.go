package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "labsrv:", err)
		os.Exit(1)
	}
}

// errUsage is returned for a missing or unknown subcommand.
var errUsage = errors.New("usage: labsrv serve|get|hold|ping [flags] (see go doc ./tools/labsrv)")

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout)
	case "get":
		return get(ctx, args[1:], stdout)
	case "hold":
		return hold(ctx, args[1:], stdout)
	case "ping":
		return ping(ctx, args[1:], stdout)
	}
	return errUsage
}
