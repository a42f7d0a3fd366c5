package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/appliance/api"
	"github.com/lvsbox/lvsbox/appliance/engine"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/netcfg"
	"github.com/lvsbox/lvsbox/appliance/store"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "lvsboxd:", err)
		if errors.Is(err, flag.ErrHelp) || errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

type options struct {
	data, seed, http, run, versionFile string
	resync                             time.Duration
	level                              slog.Level
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("lvsboxd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "data directory holding lvsbox.db (required)")
	fs.StringVar(&o.seed, "seed", "", "seed configuration imported when the store is empty")
	fs.StringVar(&o.http, "http", "", "HTTP listen address, e.g. :80 (empty: no HTTP)")
	fs.DurationVar(&o.resync, "resync", 5*time.Second, "interval between reconcile passes")
	fs.StringVar(&o.run, "run", "/run/lvsbox", "runtime state directory (what lvsbox added to the host)")
	fs.StringVar(&o.versionFile, "version-file", api.VersionFile, "image build info shown in status")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if o.data == "" {
		return o, fmt.Errorf("%w: --data is required", errUsage)
	}
	if o.resync <= 0 {
		return o, fmt.Errorf("%w: --resync must be positive", errUsage)
	}
	if err := o.level.UnmarshalText([]byte(*level)); err != nil {
		return o, fmt.Errorf("%w: --log-level: %v", errUsage, err)
	}
	return o, nil
}

func run(args []string, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.level}))
	slog.SetDefault(log)
	bridgeLogrus(log)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	log.Info("lvsboxd starting", "pid", os.Getpid(), "data", o.data, "seed", o.seed, "http", o.http, "resync", o.resync)
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	warnIfVolatile(log, o.data)

	st, err := store.Open(o.data, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	importSeed(log, st, o.seed)

	version, err := api.LoadVersion(o.versionFile)
	if err != nil {
		log.Warn("version file unreadable", "error", err)
	}

	eng := engine.New(engine.Options{
		Store:    st,
		OpenIPVS: func() (ipvs.Kernel, error) { return ipvs.OpenNetlink() },
		Net: &netcfg.Reconciler{
			Host:   netcfg.NewNetlink(nil),
			Sysctl: netcfg.ProcSys{},
			UTS:    netcfg.KernelUTS{},
			RunDir: o.run,
		},
		Resync: o.resync,
		Log:    log,
	})

	var ln net.Listener
	if o.http != "" {
		if ln, err = net.Listen("tcp", o.http); err != nil {
			return fmt.Errorf("http: %w", err)
		}
		log.Info("http: listening", "addr", ln.Addr().String())
	}

	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() { errc <- eng.Run(ctx) })
	if ln != nil {
		srv := &api.Server{Status: eng, Version: version, Log: log}
		wg.Go(func() { errc <- srv.Run(ctx, ln) })
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc: // a component failed on its own
	}
	log.Info("lvsboxd stopping; kernel state is left in place")
	stop()
	wg.Wait()
	close(errc)
	for err := range errc {
		runErr = errors.Join(runErr, err)
	}
	return runErr
}

// importSeed imports the seed when the store is empty; a bad seed is logged, not fatal.
func importSeed(log *slog.Logger, st *store.Store, seed string) {
	if seed == "" {
		return
	}
	n, err := store.ImportSeed(st, seed)
	switch {
	case err != nil:
		log.Error("seed rejected; nothing stored", "seed", seed, "error", err)
	case n == 0:
		log.Info("seed ignored: the store already has a configuration", "seed", seed)
	default:
		log.Info("seed imported", "seed", seed, "revision", n)
	}
}

// warnIfVolatile warns loudly when the data directory is on tmpfs or ramfs.
func warnIfVolatile(log *slog.Logger, dir string) {
	fsType, volatile, err := volatileFS(dir)
	if err != nil {
		log.Warn("cannot tell what filesystem the data directory is on", "data", dir, "error", err)
		return
	}
	if volatile {
		log.Warn("!!! data directory is on "+fsType+": config will not survive a reboot (is a data disk labelled lvsbox-data attached?) !!!",
			"data", dir, "fs", fsType)
	}
}
