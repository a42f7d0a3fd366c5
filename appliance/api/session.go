package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/auth"
)

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse carries a session token for `Authorization: Bearer TOKEN`.
type LoginResponse struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	User    string    `json:"user"`
	Role    auth.Role `json:"role"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	var req LoginRequest
	if err := decodeBody(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Auth == nil {
		s.fail(w, r, newError(http.StatusServiceUnavailable, "no authenticator configured"))
		return
	}
	tok, exp, id, err := s.Auth.Login(remoteAddr(r), req.Username, req.Password)
	if err != nil {
		s.log().Warn("api: login failed", "user", req.Username, "source", remoteAddr(r), "error", err)
		s.fail(w, r, err)
		return
	}
	s.log().Info("api: login", "user", id.User, "source", remoteAddr(r))
	writeJSON(w, http.StatusOK, LoginResponse{Token: tok, Expires: exp.UTC(), User: id.User, Role: id.Role})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.Auth != nil && id.Via == "session" {
		s.Auth.Logout(strings.TrimSpace(tok))
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, id auth.Identity) {
	writeJSON(w, http.StatusOK, id)
}
