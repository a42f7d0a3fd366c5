package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/lvsbox/lvsbox/init/kmod"
)

// request is a parsed command line.
type request struct {
	names   []string
	quiet   bool // -q: say nothing when a module does not exist (the kernel's way)
	verbose bool
}

// parseArgs reads the subset of modprobe(8) the kernel and operators use:
// `modprobe [-q] [-v] [-a] [--] NAME...`. Module parameters (NAME key=value)
// are not supported: the board file's module_options apply at boot.
func parseArgs(args []string) (request, error) {
	var r request
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			r.names = append(r.names, args[i+1:]...)
			i = len(args)
		case a == "-q" || a == "--quiet":
			r.quiet = true
		case a == "-v" || a == "--verbose":
			r.verbose = true
		case a == "-a" || a == "--all":
		case strings.HasPrefix(a, "-"):
			return r, fmt.Errorf("option %s is not supported (modprobe [-q] [-v] [-a] [--] NAME...)", a)
		default:
			r.names = append(r.names, a)
		}
	}
	if len(r.names) == 0 {
		return r, errors.New("no module named (modprobe [-q] [-v] [-a] [--] NAME...)")
	}
	return r, nil
}

// load probes every requested module; all are tried, errors are joined.
func load(r request, log *slog.Logger) error {
	rel, err := kmod.KernelRelease()
	if err != nil {
		return err
	}
	dir, err := kmod.ModuleDir(rel)
	if err != nil {
		return err
	}
	idx, err := kmod.LoadIndex(os.DirFS(dir))
	if err != nil {
		return err
	}
	already, _ := kmod.LoadedModules()
	return probeAll(kmod.NewProber(idx, dir, kmod.FinitLoader{}, already, log), r)
}

// prober is the part of kmod.Prober modprobe uses (a fake in tests).
type prober interface{ Probe(name string) error }

func probeAll(p prober, r request) error {
	var errs []error
	for _, n := range r.names {
		err := p.Probe(n)
		if err == nil || (r.quiet && errors.Is(err, kmod.ErrNotFound)) {
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %w", n, err))
	}
	return errors.Join(errs...)
}
