package api

import (
	"fmt"
	"mime"
	"net/http"
	"net/netip"
	"os"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/auth"
)

// maxBody bounds request bodies (a configuration document is at most 16 MiB).
const maxBody = 20 << 20

type mode int

const (
	modePlain  mode = iota // plain HTTP: status only, no authentication
	modeSocket             // Unix socket: everything, peer is admin
	modeTLS                // HTTPS: everything, authenticated
)

type handlerFunc func(w http.ResponseWriter, r *http.Request, id auth.Identity)

// route is one endpoint. The route table is the only place endpoints are registered;
// the OpenAPI test walks it.
type route struct {
	method, path string
	perm         auth.Permission
	plain        bool // also on the plain-HTTP listener
	h            handlerFunc
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

func (s *Server) routes() []route {
	return []route{
		{"GET", "/{$}", auth.PermRead, true, s.page},
		{"GET", "/healthz", auth.PermNone, true, s.healthz},
		{"GET", "/api/v1/status", auth.PermRead, true, s.statusJSON},
		{"GET", "/metrics", auth.PermRead, true, s.metrics},
		{"GET", "/api/v1/openapi.json", auth.PermNone, false, s.openapi},
		{"POST", "/api/v1/login", auth.PermNone, false, s.login},
		{"POST", "/api/v1/logout", auth.PermRead, false, s.logout},
		{"GET", "/api/v1/whoami", auth.PermRead, false, s.whoami},
		{"GET", "/api/v1/config", auth.PermRead, false, s.needStore(s.getConfig)},
		{"PUT", "/api/v1/config", auth.PermOperate, false, s.needStore(s.putConfig)},
		{"POST", "/api/v1/config/validate", auth.PermRead, false, s.validateConfig},
		{"GET", "/api/v1/revisions", auth.PermRead, false, s.needStore(s.listRevisions)},
		{"GET", "/api/v1/revisions/{n}", auth.PermRead, false, s.needStore(s.getRevision)},
		{"GET", "/api/v1/revisions/{a}/diff/{b}", auth.PermRead, false, s.needStore(s.diffRevisions)},
		{"POST", "/api/v1/revisions/{n}/rollback", auth.PermOperate, false, s.needStore(s.rollback)},
		{"POST", "/api/v1/revisions/{n}/confirm", auth.PermOperate, false, s.needStore(s.confirm)},
		{"GET", "/api/v1/services/{name}/realserver-script", auth.PermRead, false, s.needStore(s.realServerScript)},
		{"GET", "/api/v1/events", auth.PermRead, false, s.events},
		{"GET", "/api/v1/export", auth.PermAdmin, false, s.needStore(s.export)},
		{"POST", "/api/v1/import", auth.PermAdmin, false, s.needStore(s.importConfig)},
	}
}

// Handler is the plain-HTTP listener's handler: the status page, /api/v1/status,
// /healthz and /metrics without authentication. Every other /api/ path answers 403.
func (s *Server) Handler() http.Handler { return s.handler(modePlain) }

// SocketHandler is the Unix socket's handler: the whole API, callers are admin.
func (s *Server) SocketHandler() http.Handler { return s.handler(modeSocket) }

// TLSHandler is the HTTPS listener's handler: the whole API with authentication.
func (s *Server) TLSHandler() http.Handler { return s.handler(modeTLS) }

func (s *Server) handler(m mode) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		if m == modePlain && !rt.plain {
			continue
		}
		mux.Handle(rt.pattern(), s.wrap(rt, m))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if m == modePlain {
			s.fail(w, r, newError(http.StatusForbidden,
				"this plain-HTTP listener serves only the status; use HTTPS or the local socket for %s", r.URL.Path))
			return
		}
		var allow []string
		for _, meth := range []string{"GET", "PUT", "POST", "DELETE"} {
			r2 := r.Clone(r.Context())
			r2.Method = meth
			if _, pat := mux.Handler(r2); pat != "/api/" {
				allow = append(allow, meth)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.fail(w, r, newError(http.StatusMethodNotAllowed, "%s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
			return
		}
		s.fail(w, r, newError(http.StatusNotFound, "no such endpoint: %s", r.URL.Path))
	})
	return mux
}

// wrap authenticates and authorises a request for rt.
func (s *Server) wrap(rt route, m mode) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		id, err := s.identify(r, m, rt.perm)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !id.Role.Allows(rt.perm) {
			s.fail(w, r, newError(http.StatusForbidden, "user %s (role %s) may not %s %s: needs role %s or higher",
				id.User, id.Role, rt.method, rt.path, rt.perm))
			return
		}
		if m == modeTLS && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
			// Browsers cannot send application/json across origins without a CORS
			// preflight (which we never grant): this stops cross-site form posts
			// riding on cached Basic credentials.
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				s.fail(w, r, newError(http.StatusUnsupportedMediaType, "%s %s needs Content-Type: application/json", r.Method, rt.path))
				return
			}
		}
		rt.h(w, r, id)
	})
}

// identify works out who is calling.
func (s *Server) identify(r *http.Request, m mode, perm auth.Permission) (auth.Identity, error) {
	switch m {
	case modePlain:
		return auth.Identity{User: "anonymous", Role: auth.RoleViewer, Via: "http"}, nil
	case modeSocket:
		p, ok := peerFrom(r.Context())
		if !ok {
			return auth.Identity{}, newError(http.StatusForbidden, "socket peer credentials unavailable")
		}
		if p.UID != 0 && int(p.UID) != os.Geteuid() {
			return auth.Identity{}, newError(http.StatusForbidden, "uid %d may not use the API socket", p.UID)
		}
		name := "local:root"
		if p.UID != 0 {
			name = fmt.Sprintf("local:uid=%d", p.UID)
		}
		return auth.Identity{User: name, Role: auth.RoleAdmin, Via: "socket"}, nil
	}
	if perm == auth.PermNone {
		return auth.Identity{Via: "none"}, nil
	}
	if s.Auth == nil {
		return auth.Identity{}, newError(http.StatusServiceUnavailable, "no authenticator configured")
	}
	return s.Auth.Authenticate(remoteAddr(r), r.Header.Get("Authorization"))
}

// remoteAddr is the request's source address (invalid when unknown).
func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func (s *Server) needStore(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, id auth.Identity) {
		if s.Store == nil {
			s.fail(w, r, newError(http.StatusServiceUnavailable, "configuration store not available"))
			return
		}
		h(w, r, id)
	}
}
