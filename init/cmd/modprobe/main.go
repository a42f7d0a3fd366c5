// Command modprobe is the appliance's /sbin/modprobe: the kernel runs it for
// request_module() (e.g. IPVS asking for the module of a scheduler when a
// service first uses it: `modprobe -q -- ip_vs_sed`), and operators can run it
// from the rescue shell. It loads modules by name or alias with their
// dependencies and softdeps through init/kmod, the same code PID 1 boots with.
package main

import (
	"fmt"
	"log/slog"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "modprobe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	req, err := parseArgs(args)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if req.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return load(req, log)
}
