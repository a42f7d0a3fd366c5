package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/config"
)

// ConfigResponse is the body of GET /api/v1/config and GET /api/v1/revisions/{n}.
type ConfigResponse struct {
	Revision RevisionInfo    `json:"revision"`
	Config   json.RawMessage `json:"config"`
}

// ApplyRequest is the body of PUT /api/v1/config.
type ApplyRequest struct {
	// BaseRevision is the revision the change was made from (required): a stale base
	// is refused with 409 and nothing is lost.
	BaseRevision *uint64 `json:"base_revision"`
	Comment      string  `json:"comment"`
	// ConfirmWithin ("5m") makes the commit confirmed: unless confirmed in time it is
	// rolled back by itself.
	ConfirmWithin string          `json:"confirm_within,omitempty"`
	Config        json.RawMessage `json:"config"`
}

// CommitResponse is the body of a successful change.
type CommitResponse struct {
	Revision RevisionInfo `json:"revision"`
	Warnings []Problem    `json:"warnings"`
}

// ValidateRequest is the body of POST /api/v1/config/validate.
type ValidateRequest struct {
	Config json.RawMessage `json:"config"`
}

// ValidateResponse is the result of a dry run.
type ValidateResponse struct {
	Valid    bool      `json:"valid"`
	Errors   []Problem `json:"errors"`
	Warnings []Problem `json:"warnings"`
	// Changes are the kernel changes applying the configuration would make now.
	Changes []string `json:"changes"`
	// PlanError says why Changes could not be computed (e.g. IPVS unavailable).
	PlanError string `json:"plan_error,omitempty"`
}

// maxConfirmWithin bounds a commit-confirmed deadline.
const maxConfirmWithin = 24 * time.Hour

func parseConfirm(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxConfirmWithin {
		return 0, &httpError{code: http.StatusBadRequest, msg: "invalid confirm_within",
			details: []Problem{{Path: "confirm_within", Message: fmt.Sprintf("%q is not a duration between 1s and %s", s, maxConfirmWithin)}}}
	}
	return d, nil
}

// configJSON renders a configuration for id: secrets are redacted for non-admins.
func configJSON(cfg config.Config, id auth.Identity) (json.RawMessage, error) {
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("api: encode configuration: %w", err)
	}
	if id.Role.Allows(auth.PermAdmin) {
		return data, nil
	}
	return redactConfig(data)
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	rev, err := s.Store.Current()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeRevision(w, r, rev, id)
}

func (s *Server) writeRevision(w http.ResponseWriter, r *http.Request, rev Revision, id auth.Identity) {
	doc, err := configJSON(rev.Config, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ConfigResponse{Revision: rev.RevisionInfo, Config: doc})
}

// decodeConfig decodes a submitted document strictly; problems come back as 422 with
// the validation paths.
func decodeConfig(raw json.RawMessage) (config.Config, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return config.Config{}, &httpError{code: http.StatusBadRequest, msg: "config is required",
			details: []Problem{{Path: "config", Message: "missing"}}}
	}
	cfg, err := config.DecodeBytes(raw)
	if err != nil {
		if he := classify(err); he.code == http.StatusUnprocessableEntity {
			return cfg, he
		}
		return cfg, &httpError{code: http.StatusUnprocessableEntity, msg: "invalid configuration",
			details: []Problem{{Path: "", Message: err.Error()}}}
	}
	return cfg, nil
}

// guardUsers refuses a non-admin change to the users, and restores the current users
// when the caller sent back the redacted copy it was shown.
func (s *Server) guardUsers(raw json.RawMessage, id auth.Identity) (json.RawMessage, error) {
	if id.Role.Allows(auth.PermAdmin) {
		return raw, nil
	}
	cur, err := s.Store.Current()
	if err != nil {
		return nil, err
	}
	curJSON, err := json.Marshal(cur.Config)
	if err != nil {
		return nil, err
	}
	doc, ok, err := keepUsers(raw, curJSON)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &httpError{code: http.StatusForbidden, msg: fmt.Sprintf("user %s (role %s) may not change users: needs role admin", id.User, id.Role),
			details: []Problem{{Path: usersKey, Message: "changed"}}}
	}
	return doc, nil
}

func (s *Server) warnings(cfg config.Config) []Problem {
	return problems(cfg.Warnings())
}

// envProblems returns the problems that only a check against the running system
// finds (an interface that does not exist here, ...), as warnings.
func (s *Server) envProblems(cfg config.Config) []Problem {
	if s.Env == nil {
		return nil
	}
	err := cfg.ValidateWith(s.Env())
	var all config.Errors
	if !errors.As(err, &all) {
		return nil
	}
	var out []Problem
	for _, p := range problems(all) {
		out = append(out, Problem{Path: p.Path, Message: "on this system: " + p.Message})
	}
	return out
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	var req ApplyRequest
	if err := decodeBody(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.BaseRevision == nil {
		s.fail(w, r, &httpError{code: http.StatusBadRequest, msg: "base_revision is required",
			details: []Problem{{Path: "base_revision", Message: "missing: send the revision number your change is based on (0 for an empty store)"}}})
		return
	}
	within, err := parseConfirm(req.ConfirmWithin)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := decodeConfig(req.Config); err != nil {
		s.fail(w, r, err)
		return
	}
	doc, err := s.guardUsers(req.Config, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cfg, err := decodeConfig(doc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.Kernel != nil && cfg.Validate() == nil {
		if err := s.Kernel(cfg); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	info, err := s.Store.Apply(*req.BaseRevision, cfg, Meta{User: id.User, Comment: req.Comment, ConfirmWithin: within})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log().Info("api: configuration committed", "revision", info.Number, "user", id.User, "via", id.Via, "comment", req.Comment, "confirm_within", within)
	writeJSON(w, http.StatusOK, CommitResponse{Revision: info, Warnings: s.warnings(cfg)})
}

func (s *Server) validateConfig(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	var req ValidateRequest
	if err := decodeBody(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	resp := ValidateResponse{Errors: []Problem{}, Warnings: []Problem{}, Changes: []string{}}
	cfg, err := decodeConfig(req.Config)
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil && s.Kernel != nil {
		err = s.Kernel(cfg)
	}
	if err != nil {
		he := classify(err)
		if he.code != http.StatusUnprocessableEntity {
			s.fail(w, r, err)
			return
		}
		resp.Errors = he.details
		writeJSON(w, http.StatusOK, resp)
		return
	}
	resp.Valid = true
	resp.Warnings = append(s.warnings(cfg), s.envProblems(cfg)...)
	if s.Planner == nil {
		resp.PlanError = "no planner: kernel changes cannot be computed here"
	} else if changes, err := s.Planner.Plan(r.Context(), cfg); err != nil {
		resp.PlanError = err.Error()
	} else if changes != nil {
		resp.Changes = changes
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) export(w http.ResponseWriter, r *http.Request, _ auth.Identity) {
	data, err := s.Store.Export()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="lvsbox-export.json"`)
	w.Write(data)
}

// importConfig takes the document as the body; meta comes as query parameters
// (base_revision, comment, confirm_within).
func (s *Server) importConfig(w http.ResponseWriter, r *http.Request, id auth.Identity) {
	q := r.URL.Query()
	base, err := strconv.ParseUint(q.Get("base_revision"), 10, 64)
	if err != nil {
		s.fail(w, r, &httpError{code: http.StatusBadRequest, msg: "base_revision is required",
			details: []Problem{{Path: "base_revision", Message: "query parameter missing or not a number"}}})
		return
	}
	within, err := parseConfirm(q.Get("confirm_within"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, r, newError(http.StatusBadRequest, "request body: %v", err))
		return
	}
	if err := checkImport(data); err != nil {
		s.fail(w, r, err)
		return
	}
	info, err := s.Store.Import(data, base, Meta{User: id.User, Comment: q.Get("comment"), ConfirmWithin: within})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log().Info("api: configuration imported", "revision", info.Number, "user", id.User, "via", id.Via)
	warn := []Problem{}
	if rev, err := s.Store.Get(info.Number); err == nil {
		warn = s.warnings(rev.Config)
	}
	writeJSON(w, http.StatusOK, CommitResponse{Revision: info, Warnings: warn})
}

// exportMembers are the members of an export document ({schema, revision, config}).
var exportMembers = map[string]bool{"schema": true, "revision": true, "config": true}

// checkImport refuses, as client errors, bodies the store could only fail on: not
// JSON, or an export document with unknown members or another schema version. The
// configuration itself is checked by the store (422 with paths).
func checkImport(data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return newError(http.StatusBadRequest, "request body: not a JSON object: %v", err)
	}
	if top["schema"] == nil || top["config"] == nil {
		return nil // a bare configuration
	}
	var details []Problem
	for k := range top {
		if !exportMembers[k] {
			details = append(details, Problem{Path: k, Message: "unknown field of an export document (schema, revision, config)"})
		}
	}
	var schema int
	if err := json.Unmarshal(top["schema"], &schema); err != nil || schema != config.SchemaVersion {
		details = append(details, Problem{Path: "schema", Message: fmt.Sprintf("%s is not configuration schema %d, which this version reads", top["schema"], config.SchemaVersion)})
	}
	if len(details) > 0 {
		sort.Slice(details, func(i, j int) bool { return details[i].Path < details[j].Path })
		return &httpError{code: http.StatusUnprocessableEntity, msg: "invalid export document", details: details}
	}
	return nil
}
