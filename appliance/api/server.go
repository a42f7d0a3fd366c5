package api

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/engine"
	"github.com/lvsbox/lvsbox/appliance/events"
	"github.com/lvsbox/lvsbox/appliance/healthd"
	"github.com/lvsbox/lvsbox/appliance/vrrpd"
)

// StatusSource yields status snapshots (the engine).
type StatusSource interface {
	Status() engine.Status
}

// Server is the daemon's HTTP interface. Only Status is required; without Store the
// configuration endpoints answer 503.
type Server struct {
	Status  StatusSource
	Version *Version // nil when the image has no version file
	// Hostname returns the kernel host name (default os.Hostname).
	Hostname func() (string, error)
	Log      *slog.Logger

	Store   Store
	Planner Planner // nil: dry-runs list no kernel changes
	// Env describes the running system for dry runs (nil: the document alone is
	// checked). Problems only it reveals are reported as warnings: commits validate
	// the document on its own.
	Env func() config.Env
	// Kernel checks a configuration against the running kernel (schedulers and
	// tunnel types IPVS lacks, sysctl overrides it does not have); its problems
	// (config.Errors) refuse a commit with 422 and make a dry run invalid. nil: none.
	Kernel func(config.Config) error
	// RealServerScript returns the shell script(s) the DR/TUN real servers of a
	// configured service need (GET /api/v1/services/{name}/realserver-script);
	// rshelper.ErrNoScript for a NAT-only service. nil: the endpoint answers 503.
	RealServerScript func(cfg config.Config, service string) (string, error)
	// Interfaces lists the host's network interfaces for the status (nil: omitted).
	Interfaces func() ([]Interface, error)
	// Auth checks credentials on the HTTPS listener (required there).
	Auth *auth.Authenticator
	// Events is the hub behind /api/v1/events (nil: 503).
	Events *events.Hub
	// OnCommit is called for every committed revision seen by PublishEvents.
	OnCommit func(RevisionInfo)
	// Health is the health checker's status for /api/v1/status (nil: omitted).
	Health HealthSource
	// VRRP serves the vrrp part of the status (nil: absent).
	VRRP VRRPSource
	// Metrics serves /metrics (the Prometheus registry's handler; nil: 404).
	Metrics http.Handler

	Heartbeat   time.Duration    // SSE heartbeat comment interval (15s)
	StatusEvery time.Duration    // how often PublishEvents looks for state changes (1s)
	Now         func() time.Time // time.Now
}

// VRRPSource yields the VRRP status (the vrrpd Service).
type VRRPSource interface {
	Status() vrrpd.Status
}

// HealthSource yields the health checks' status (the healthd Manager).
type HealthSource interface {
	Status() healthd.Status
}

// Document is the body of /api/v1/status.
type Document struct {
	Hostname string   `json:"hostname"`
	Version  *Version `json:"version"`
	engine.Status
	// Config is the store's newest revision (which the engine applies on its next pass)
	// and its pending confirmation, if any.
	Config     *ConfigState `json:"config,omitempty"`
	Interfaces []Interface  `json:"interfaces,omitempty"`
	// Health is every virtual service's and real server's health check state.
	Health *healthd.Status `json:"health,omitempty"`
	// VRRP is every VRRP instance's state, master, counters and transitions.
	VRRP *vrrpd.Status `json:"vrrp,omitempty"`
}

// ConfigState is the stored configuration's state.
type ConfigState struct {
	Revision       *RevisionInfo   `json:"revision"` // nil: empty store
	PendingConfirm *PendingConfirm `json:"pending_confirm"`
}

// PendingConfirm is a commit-confirmed revision waiting for its confirmation.
type PendingConfirm struct {
	Revision  uint64    `json:"revision"`
	ConfirmBy time.Time `json:"confirm_by"`
	Remaining string    `json:"remaining"`
}

// Interface is one host network interface.
type Interface struct {
	Name      string   `json:"name"`
	MAC       string   `json:"mac,omitempty"`
	MTU       int      `json:"mtu"`
	Up        bool     `json:"up"`
	Addresses []string `json:"addresses"`
}

// HostInterfaces lists the host's interfaces (read only) for Server.Interfaces.
func HostInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("api: interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs))
	for _, in := range ifs {
		it := Interface{Name: in.Name, MAC: in.HardwareAddr.String(), MTU: in.MTU, Up: in.Flags&net.FlagUp != 0, Addresses: []string{}}
		if addrs, err := in.Addrs(); err == nil {
			for _, a := range addrs {
				it.Addresses = append(it.Addresses, a.String())
			}
		}
		out = append(out, it)
	}
	return out, nil
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
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
	doc := Document{Hostname: name, Version: s.Version, Status: s.Status.Status()}
	if s.Store != nil {
		doc.Config = &ConfigState{}
		if h, err := s.Store.History(1); err != nil {
			s.log().Warn("api: status: store history", "error", err)
		} else if len(h) > 0 {
			doc.Config.Revision = &h[0]
			if h[0].Pending() {
				doc.Config.PendingConfirm = &PendingConfirm{Revision: h[0].Number, ConfirmBy: *h[0].ConfirmBy,
					Remaining: max(0, h[0].ConfirmBy.Sub(s.now())).Round(time.Second).String()}
			}
		}
	}
	if s.Health != nil {
		h := s.Health.Status()
		doc.Health = &h
	}
	if s.VRRP != nil {
		v := s.VRRP.Status()
		doc.VRRP = &v
	}
	if s.Interfaces != nil {
		ifs, err := s.Interfaces()
		if err != nil {
			s.log().Warn("api: status: interfaces", "error", err)
		}
		doc.Interfaces = ifs
	}
	return doc
}

func (s *Server) statusJSON(w http.ResponseWriter, _ *http.Request, _ auth.Identity) {
	writeJSON(w, http.StatusOK, s.document())
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	if s.Metrics == nil {
		s.fail(w, r, newError(http.StatusNotFound, "no metrics registry"))
		return
	}
	s.Metrics.ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request, _ auth.Identity) {
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

// Run serves the plain-HTTP listener (status page, /api/v1/status, /healthz,
// /metrics; no authentication, nothing else) on ln until ctx is done.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, s.Handler(), nil)
}

// RunSocket serves the whole API on a Unix socket listener (see ListenUnix): the
// socket's permissions are the authentication; callers act as admin.
func (s *Server) RunSocket(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, s.SocketHandler(), nil)
}

// RunTLS serves the whole API over TLS with authentication.
func (s *Server) RunTLS(ctx context.Context, ln net.Listener, getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) error {
	if s.Auth == nil {
		return errors.New("api: HTTPS needs an authenticator")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: getCert}
	return s.serve(ctx, ln, s.TLSHandler(), cfg)
}

// serve runs an http.Server on ln (with TLS when tlsConfig is set) until ctx is done, then shuts down (waiting at most
// 2s for in-flight requests; event streams end with ctx). It returns nil after a
// shutdown caused by ctx.
func (s *Server) serve(ctx context.Context, ln net.Listener, h http.Handler, tlsConfig *tls.Config) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log().Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext:       peerContext,
		TLSConfig:         tlsConfig,
	}
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- srv.ServeTLS(ln, "", "") // certificates come from GetCertificate; HTTP/2 enabled
			return
		}
		errc <- srv.Serve(ln)
	}()
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

// decodeBody decodes a JSON request body strictly into v. An empty body leaves v as
// it is when optional.
func decodeBody(r *http.Request, v any, optional bool) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if optional && errors.Is(err, io.EOF) {
			return nil
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return newError(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mbe.Limit)
		}
		return newError(http.StatusBadRequest, "request body: %v", err)
	}
	if dec.More() {
		return newError(http.StatusBadRequest, "request body: trailing data after the JSON document")
	}
	return nil
}

// HostEnv describes this host's interfaces for Server.Env (read only).
func HostEnv() config.Env {
	ifs, err := net.Interfaces()
	if err != nil {
		return config.Env{}
	}
	env := config.Env{Links: []config.HostLink{}}
	for _, in := range ifs {
		env.Links = append(env.Links, config.HostLink{Name: in.Name, MAC: in.HardwareAddr.String()})
	}
	return env
}
