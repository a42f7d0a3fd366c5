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
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/appliance/api"
	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/engine"
	"github.com/lvsbox/lvsbox/appliance/events"
	"github.com/lvsbox/lvsbox/appliance/healthd"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvsmetrics"
	"github.com/lvsbox/lvsbox/appliance/metrics"
	"github.com/lvsbox/lvsbox/appliance/netcfg"
	"github.com/lvsbox/lvsbox/appliance/nic"
	"github.com/lvsbox/lvsbox/appliance/store"
	"github.com/lvsbox/lvsbox/appliance/sysctl"
	"github.com/lvsbox/lvsbox/appliance/tlscert"
	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrpd"
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

// imageMarker exists only in the lvsbox image; `--https auto` listens on :443 there.
const imageMarker = "/etc/lvsbox/board.json"

type options struct {
	data, seed, http, https, socket, run, versionFile string
	resync                                            time.Duration
	vrrpRT                                            int
	level                                             slog.Level
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("lvsboxd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "data directory holding lvsbox.db, tls/ and initial-admin-password (required)")
	fs.StringVar(&o.seed, "seed", "", "seed configuration imported when the store is empty")
	fs.StringVar(&o.http, "http", "", "plain-HTTP listen address for the status page, status JSON and metrics only, e.g. :80 (empty: none)")
	fs.StringVar(&o.https, "https", "auto", "HTTPS API listen address, e.g. :443; auto = :443 in the image, none on a host; empty or none: off")
	fs.StringVar(&o.socket, "socket", "", "API Unix socket (root-only, no authentication); default RUN/api.sock; none: off")
	fs.DurationVar(&o.resync, "resync", engine.DefaultResync, "interval between full reconcile passes (drift repair); configuration changes apply at once")
	fs.IntVar(&o.vrrpRT, "vrrp-rt", 0, "run the whole daemon under SCHED_RR at this priority (1-99) so VRRP adverts stay on time under CPU load; 0: normal scheduling")
	fs.StringVar(&o.run, "run", "/run/lvsbox", "runtime state directory (what lvsbox added to the host, the API socket)")
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
	switch o.socket {
	case "":
		o.socket = filepath.Join(o.run, "api.sock")
	case "none":
		o.socket = ""
	}
	switch o.https {
	case "auto":
		o.https = ""
		if _, err := os.Stat(imageMarker); err == nil {
			o.https = ":443"
		}
	case "none":
		o.https = ""
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

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	log.Info("lvsboxd starting", "pid", os.Getpid(), "data", o.data, "seed", o.seed, "http", o.http,
		"https", o.https, "socket", o.socket, "resync", o.resync)
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	warnIfVolatile(log, o.data)
	if o.vrrpRT != 0 {
		if err := node.SetRealtime(o.vrrpRT); err != nil {
			log.Error("realtime scheduling refused; VRRP runs with normal scheduling", "error", err)
		} else {
			log.Info("realtime scheduling", "policy", "SCHED_RR", "priority", o.vrrpRT)
		}
	}

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

	openIPVS := func() (ipvs.Kernel, error) { return ipvs.OpenNetlink() }
	hub := events.NewHub(256, strconv.FormatInt(time.Now().UnixNano(), 36), nil)
	reg := metrics.New()
	var eng *engine.Engine
	checks := healthd.New(healthd.Options{Log: log, Events: hub, OnChange: func() { eng.Kick() }})
	if err := reg.Register(checks.Collector()); err != nil {
		return err
	}
	eng = engine.New(engine.Options{
		Store:    st,
		OpenIPVS: openIPVS,
		Net: &netcfg.Reconciler{
			Host:   netcfg.NewNetlink(nil),
			UTS:    netcfg.KernelUTS{},
			RunDir: o.run,
		},
		Resync: o.resync,
		Log:    log,
		Health: checks,
		NIC:    func() (nic.Kernel, error) { return nic.Open() },
		Sysctl: sysctl.ProcSys{},
		Events: hub,
	})
	if err := reg.Register(ipvsmetrics.New(eng.MetricsSource(openIPVS))); err != nil {
		return err
	}
	vr := vrrpd.New(vrrpd.Options{
		Source: func() (uint64, config.Config, error) {
			rev, err := st.Current()
			return rev.Number, rev.Config, err
		},
		Log: log, Health: checks, Gate: eng, Events: hub, OnMaster: eng.Kick,
	})
	if err := reg.Register(vr.Collector()); err != nil {
		return err
	}
	kernel := engine.KernelCheck{Features: kernelFeatures, Sysctl: sysctl.ProcSys{}}

	users := &auth.UserCache{Load: configUsers(st), Bootstrap: &auth.Bootstrap{
		Path: filepath.Join(o.data, auth.InitialPasswordFile),
		Created: func(user, password, path string) {
			log.Warn("!!! no users are configured: created the initial admin account; change it by adding users to the configuration !!!",
				"user", user, "password", password, "file", path)
		},
	}}
	srv := &api.Server{
		Status: eng, Version: version, Log: log,
		Store:   storeAPI{st},
		Planner: engine.Planner{OpenIPVS: openIPVS, Health: checks},
		Env:     api.HostEnv,
		Kernel:  kernel.Check,
		RealServerScript: func(cfg config.Config, service string) (string, error) {
			return engine.RealServerScript(cfg, boxName(cfg), service)
		},
		Interfaces: api.HostInterfaces,
		Auth:       auth.New(auth.Options{Users: users.Users, Log: log}),
		Events:     hub,
		OnCommit:   func(api.RevisionInfo) { users.Invalidate(); eng.Kick(); vr.Kick() },
		Health:     checks,
		VRRP:       vr,
		Metrics:    reg.Handler(),
	}

	ls, err := listen(log, o, users)
	if err != nil {
		return err
	}

	// A deadline that passed while the daemon was down rolls back before the first pass.
	exp := expirer{s: st,
		onRollback: func(p, rb store.RevisionInfo) {
			log.Warn("commit-confirmed revision not confirmed in time: rolled back", "revision", p.Number, "rollback_revision", rb.Number)
		},
		onError: func(err error) { log.Error("commit-confirmed expiry", "error", err) },
	}
	exp.due()

	var wg sync.WaitGroup
	errc := make(chan error, 7)
	wg.Go(func() { errc <- checks.Run(ctx) })
	wg.Go(func() { errc <- eng.Run(ctx) })
	wg.Go(func() { errc <- vr.Run(ctx) })
	wg.Go(func() { srv.PublishEvents(ctx) })
	wg.Go(func() { exp.loop(ctx.Done(), time.Second) })
	if ls.http != nil {
		wg.Go(func() { errc <- srv.Run(ctx, ls.http) })
	}
	if ls.socket != nil {
		wg.Go(func() { errc <- srv.RunSocket(ctx, ls.socket) })
		defer os.Remove(o.socket)
	}
	if ls.https != nil {
		wg.Go(func() { errc <- srv.RunTLS(ctx, ls.https, ls.cert.GetCertificate) })
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

type listeners struct {
	http, socket, https net.Listener
	cert                *tlscert.Loader
}

// listen binds every configured listener (closing them all on failure).
func listen(log *slog.Logger, o options, users *auth.UserCache) (ls listeners, err error) {
	defer func() {
		if err != nil {
			for _, l := range []net.Listener{ls.http, ls.socket, ls.https} {
				if l != nil {
					l.Close()
				}
			}
		}
	}()
	if o.socket != "" {
		if ls.socket, err = api.ListenUnix(o.socket); err != nil {
			return ls, err
		}
		log.Info("api socket: listening", "path", o.socket)
	}
	if o.https != "" {
		if err := users.EnsureBootstrap(); err != nil { // the initial admin when there are no users
			return ls, fmt.Errorf("https: %w", err)
		}
		if ls.cert, err = certificate(log, filepath.Join(o.data, "tls")); err != nil {
			return ls, err
		}
		if ls.https, err = net.Listen("tcp", o.https); err != nil {
			return ls, fmt.Errorf("https: %w", err)
		}
		log.Info("https: listening", "addr", ls.https.Addr().String())
	}
	// Last, so that "http: listening" means every listener is bound.
	if o.http != "" {
		if ls.http, err = net.Listen("tcp", o.http); err != nil {
			return ls, fmt.Errorf("http: %w", err)
		}
		log.Info("http: listening", "addr", ls.http.Addr().String())
	}
	return ls, nil
}

// certificate makes sure DIR holds a certificate (self-signed on first start) and
// returns a loader that picks up replacements.
func certificate(log *slog.Logger, dir string) (*tlscert.Loader, error) {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if hn, err := os.Hostname(); err == nil {
		hosts = append([]string{hn}, hosts...)
	}
	gen, err := tlscert.Ensure(dir, tlscert.Options{Hosts: hosts})
	if err != nil {
		return nil, fmt.Errorf("https: %w", err)
	}
	l := &tlscert.Loader{Dir: dir,
		Reloaded: func(fp string) { log.Info("https: certificate replaced", "sha256", fp) },
		Failed:   func(err error) { log.Error("https: new certificate unusable; keeping the previous one", "error", err) },
	}
	c, err := l.Load()
	if err != nil {
		return nil, fmt.Errorf("https: %w", err)
	}
	msg := "https: certificate"
	if gen {
		msg = "https: generated a self-signed certificate"
	}
	log.Info(msg, "dir", dir, "sha256", tlscert.Fingerprint(c.Certificate[0]))
	return l, nil
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
