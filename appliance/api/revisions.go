package api

import (
	"net/http"
	"strconv"

	"github.com/lvsbox/lvsbox/appliance/auth"
)

// RevisionsResponse is the body of GET /api/v1/revisions.
type RevisionsResponse struct {
	Revisions []RevisionInfo `json:"revisions"`
}

// DiffResponse is the body of GET /api/v1/revisions/{a}/diff/{b}.
type DiffResponse struct {
	From    uint64   `json:"from"`
	To      uint64   `json:"to"`
	Changes []Change `json:"changes"`
}

// RollbackRequest is the (optional) body of POST /api/v1/revisions/{n}/rollback.
type RollbackRequest struct {
	// BaseRevision, when given, must be the current revision (else 409).
	BaseRevision  *uint64 `json:"base_revision,omitempty"`
	Comment       string  `json:"comment,omitempty"`
	ConfirmWithin string  `json:"confirm_within,omitempty"`
}

// ConfirmEvent is the data of a "confirm" event.
type ConfirmEvent struct {
	Revision uint64 `json:"revision"`
	User     string `json:"user"`
}

const (
	defaultHistory = 50
	maxHistory     = 10000
)

func revParam(r *http.Request, name string) (uint64, error) {
	v := r.PathValue(name)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, &httpError{code: http.StatusBadRequest, msg: "bad revision number",
			details: []Problem{{Path: name, Message: strconv.Quote(v) + " is not a revision number"}}}
	}
	return n, nil
}

func (s *Server) listRevisions(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	limit := defaultHistory
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxHistory {
			s.fail(w, r, &httpError{code: http.StatusBadRequest, msg: "bad limit",
				details: []Problem{{Path: "limit", Message: "must be a number from 1 to " + strconv.Itoa(maxHistory)}}})
			return
		}
		limit = n
	}
	h, err := s.Store.History(limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if h == nil {
		h = []RevisionInfo{}
	}
	writeJSON(w, http.StatusOK, RevisionsResponse{Revisions: h})
}

func (s *Server) getRevision(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	n, err := revParam(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rev, err := s.Store.Get(n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeRevision(w, r, rev, id)
}

func (s *Server) diffRevisions(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	a, err := revParam(r, "a")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := revParam(r, "b")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes, err := s.Store.Diff(a, b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if changes == nil {
		changes = []Change{}
	}
	if !id.Role.Allows(auth.PermAdmin) {
		for i := range changes {
			changes[i] = redactChange(changes[i])
		}
	}
	writeJSON(w, http.StatusOK, DiffResponse{From: a, To: b, Changes: changes})
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	to, err := revParam(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req RollbackRequest
	if err := decodeBody(r, &req, true); err != nil {
		s.fail(w, r, err)
		return
	}
	within, err := parseConfirm(req.ConfirmWithin)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	target, err := s.Store.Get(to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cur, err := s.Store.Current()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := cur.Number
	if req.BaseRevision != nil {
		base = *req.BaseRevision
	}
	if !id.Role.Allows(auth.PermAdmin) {
		if err := s.sameUsers(target, cur, id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	info, err := s.Store.Rollback(to, base, Meta{User: id.User, Comment: req.Comment, ConfirmWithin: within})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log().Info("api: rollback committed", "revision", info.Number, "to", to, "user", id.User, "via", id.Via)
	writeJSON(w, http.StatusOK, CommitResponse{Revision: info, Warnings: s.warnings(target.Config)})
}

// sameUsers refuses a non-admin rollback that would change the users.
func (s *Server) sameUsers(target, cur Revision, id auth.Identity) error {
	a, err := configJSON(target.Config, auth.Identity{Role: auth.RoleAdmin})
	if err != nil {
		return err
	}
	b, err := configJSON(cur.Config, auth.Identity{Role: auth.RoleAdmin})
	if err != nil {
		return err
	}
	ua, err := usersOf(a)
	if err != nil {
		return err
	}
	ub, err := usersOf(b)
	if err != nil {
		return err
	}
	if ua != ub {
		return &httpError{code: http.StatusForbidden,
			msg:     "user " + id.User + " (role " + string(id.Role) + ") may not roll back to a revision with other users: needs role admin",
			details: []Problem{{Path: usersKey, Message: "differs from the current revision"}}}
	}
	return nil
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	n, err := revParam(r, "n")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Store.Confirm(n); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log().Info("api: revision confirmed", "revision", n, "user", id.User, "via", id.Via)
	if s.Events != nil {
		s.Events.Publish("confirm", ConfirmEvent{Revision: n, User: id.User})
	}
	rev, err := s.Store.Get(n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, CommitResponse{Revision: rev.RevisionInfo, Warnings: []Problem{}})
}
