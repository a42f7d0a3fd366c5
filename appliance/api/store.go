package api

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// Store is the revisioned configuration store as the API uses it. lvsboxd adapts
// appliance/store to it; tests use an in-memory fake.
type Store interface {
	// Current is the newest revision; an empty store is revision 0 with the empty
	// configuration.
	Current() (Revision, error)
	Get(n uint64) (Revision, error)
	// History lists revisions newest first, at most limit of them.
	History(limit int) ([]RevisionInfo, error)
	// Apply validates cfg (invalid: config.Errors, nothing stored) and commits it when
	// base is the current revision number (else ErrConflict).
	Apply(base uint64, cfg config.Config, m Meta) (RevisionInfo, error)
	// Rollback commits a new revision equal to revision to.
	Rollback(to, base uint64, m Meta) (RevisionInfo, error)
	// Confirm confirms a pending commit-confirmed revision.
	Confirm(n uint64) error
	Diff(a, b uint64) ([]Change, error)
	// Export is a JSON document {schema, revision, config}.
	Export() ([]byte, error)
	// Import accepts Export output or a bare configuration.
	Import(data []byte, base uint64, m Meta) (RevisionInfo, error)
	// Watch notifies every committed revision until cancel is called.
	Watch() (<-chan RevisionInfo, func())
}

// Planner lists the kernel changes a configuration would make (the daemon compiles
// it and diffs against the observed kernel).
type Planner interface {
	Plan(ctx context.Context, cfg config.Config) ([]string, error)
}

// Errors a Store reports (wrapped; test with errors.Is).
var (
	ErrConflict       = errors.New("conflict")
	ErrNotFound       = errors.New("no such revision")
	ErrPendingConfirm = errors.New("a commit-confirmed revision is pending")
	ErrNotPending     = errors.New("revision is not pending confirmation")
)

// Meta describes a change: who, why, and an optional confirm deadline.
type Meta struct {
	User          string
	Comment       string
	ConfirmWithin time.Duration // > 0: commit-confirmed
}

// RevisionInfo describes one revision.
type RevisionInfo struct {
	Number  uint64    `json:"number"`
	Time    time.Time `json:"time"`
	User    string    `json:"user"`
	Comment string    `json:"comment"`
	// ConfirmBy is the confirm deadline of a commit-confirmed revision.
	ConfirmBy *time.Time `json:"confirm_by,omitempty"`
	Confirmed bool       `json:"confirmed,omitempty"`
	// RolledBackFrom is set on a rollback revision: the revision it copies.
	RolledBackFrom uint64 `json:"rolled_back_from,omitempty"`
}

// Pending reports whether the revision waits for confirmation.
func (ri RevisionInfo) Pending() bool { return ri.ConfirmBy != nil && !ri.Confirmed }

// Revision is a revision with its configuration.
type Revision struct {
	RevisionInfo
	Config config.Config
}

// Change is one difference between two revisions; Path uses the validation notation
// (virtual_services[web].real_servers[2].weight).
type Change struct {
	Path string          `json:"path"`
	Op   string          `json:"op"` // add, remove, change
	Old  json.RawMessage `json:"old,omitempty"`
	New  json.RawMessage `json:"new,omitempty"`
}
