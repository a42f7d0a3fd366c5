package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/lvsbox/lvsbox/appliance/engine"
)

// StatusSource yields status snapshots (the engine).
type StatusSource interface {
	Status() engine.Status
}

// Server renders status over HTTP.
type Server struct {
	Status  StatusSource
	Version *Version // nil when the image has no version file
	// Hostname returns the kernel host name (default os.Hostname).
	Hostname func() (string, error)
	Log      *slog.Logger
}

// Document is the body of /api/v1/status.
type Document struct {
	Hostname string   `json:"hostname"`
	Version  *Version `json:"version"`
	engine.Status
}

func (s *Server) document() Document {
	hn := s.Hostname
	if hn == nil {
		hn = os.Hostname
	}
	name, err := hn()
	if err != nil {
		name = "(unknown)"
	}
	return Document{Hostname: name, Version: s.Version, Status: s.Status.Status()}
}

// Handler returns the HTTP routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /api/v1/status", s.statusJSON)
	mux.HandleFunc("GET /healthz", s.healthz)
	return mux
}

func (s *Server) statusJSON(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.document()); err != nil {
		s.log().Debug("http: write status", "error", err)
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	st := s.Status.Status()
	if st.Ready {
		fmt.Fprintln(w, "ok")
		return
	}
	reason := "first apply not finished"
	if st.IPVS.Error != "" {
		reason = st.IPVS.Error
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, "not ready:", reason)
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Run serves on ln until ctx is done, then shuts down (waiting at most 2s for
// in-flight requests). It returns nil after a shutdown caused by ctx.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log().Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("api: serve: %w", err)
	}
	return nil
}
