package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrfile"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vrrpd:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		cfgPath  = flag.String("config", "", "JSON file with the instances (required)")
		httpAddr = flag.String("http", "", "status/metrics listener: unix:/path or host:port (optional)")
		rt       = flag.Int("rt", 0, "SCHED_RR priority 1..99 for the whole process (0: normal scheduling)")
		level    = flag.String("log-level", "info", "debug, info, warn or error")
	)
	flag.Parse()
	if *cfgPath == "" {
		return errors.New("-config is required")
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	cfg, err := vrfile.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *rt != 0 {
		if err := node.SetRealtime(*rt); err != nil {
			return err
		}
		log.Info("vrrpd: realtime scheduling", "policy", "SCHED_RR", "priority", *rt)
	}
	events := make(chan node.Event, 256)
	go func() {
		for e := range events {
			b, _ := json.Marshal(e)
			log.Info("vrrpd: event", "json", string(b))
		}
	}()
	m, err := node.New(cfg, node.Options{Log: log, Events: events})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *httpAddr != "" {
		srv, err := serve(*httpAddr, m, log)
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	log.Info("vrrpd: running", "instances", len(cfg.Instances), "pid", os.Getpid())
	err = m.Run(ctx)
	log.Info("vrrpd: stopped", "err", err)
	return err
}

// serve starts the status listener: GET /status (JSON snapshot), GET
// /sockets, GET /metrics, POST /priority-delta?instance=&source=&delta=.
func serve(addr string, m *node.Manager, log *slog.Logger) (*http.Server, error) {
	network := "tcp"
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", p
		_ = os.Remove(p)
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(node.NewCollector(m))
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, m.Snapshot()) })
	mux.HandleFunc("GET /sockets", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, m.Sockets()) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /priority-delta", func(w http.ResponseWriter, r *http.Request) {
		d, err := strconv.Atoi(r.FormValue("delta"))
		if err == nil {
			err = m.SetPriorityDelta(r.FormValue("instance"), r.FormValue("source"), d)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("vrrpd: http", "err", err)
		}
	}()
	return srv, nil
}
