package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	bolt "go.etcd.io/bbolt"
)

// Apply validates cfg and commits it as the next revision. base is the revision the
// change was made from: if it is not the current revision the change is refused with
// ErrConflict and nothing is stored. An invalid cfg returns config.Errors (wrapped)
// and stores nothing. While a commit-confirmed revision is pending every commit is
// refused with ErrPendingConfirm.
func (s *Store) Apply(base uint64, cfg config.Config, m Meta) (RevisionInfo, error) {
	ri, err := s.commit(base, cfg, m, 0)
	if err != nil {
		return RevisionInfo{}, fmt.Errorf("store: apply: %w", err)
	}
	return ri, nil
}

// Rollback commits a new revision whose configuration equals revision to's (revision
// 0 is the empty configuration). base, conflicts and validation work as in Apply; the
// comment defaults to "rollback to revision N".
func (s *Store) Rollback(to, base uint64, m Meta) (RevisionInfo, error) {
	old, err := s.Get(to)
	if err != nil {
		return RevisionInfo{}, fmt.Errorf("store: rollback to %d: %w", to, err)
	}
	if m.Comment == "" {
		m.Comment = fmt.Sprintf("rollback to revision %d", to)
	}
	ri, err := s.commit(base, old.Config, m, to)
	if err != nil {
		return RevisionInfo{}, fmt.Errorf("store: rollback to %d: %w", to, err)
	}
	return ri, nil
}

// commit is the one write path for new revisions.
func (s *Store) commit(base uint64, cfg config.Config, m Meta, rolledBackFrom uint64) (RevisionInfo, error) {
	// Work on a private copy: the caller may go on using cfg, and the copy becomes
	// the cached current configuration.
	cfg = cfg.Clone()
	if err := cfg.Validate(); err != nil {
		return RevisionInfo{}, err
	}
	doc, err := json.Marshal(cfg)
	if err != nil {
		return RevisionInfo{}, fmt.Errorf("encode: %w", err)
	}
	snap, err := encodeSnapshot(doc)
	if err != nil {
		return RevisionInfo{}, fmt.Errorf("encode: %w", err)
	}

	s.wmu.Lock()
	defer s.wmu.Unlock()
	var h header
	err = s.db.Update(func(tx *bolt.Tx) error {
		last, _, err := lastHeader(tx)
		if err != nil {
			return err
		}
		if base != last.Number {
			return fmt.Errorf("change based on revision %d, but the current revision is %d: %w", base, last.Number, ErrConflict)
		}
		if last.Pending() {
			return fmt.Errorf("revision %d awaits confirmation until %s: %w",
				last.Number, last.ConfirmBy.Format(time.RFC3339), ErrPendingConfirm)
		}
		now := s.now().UTC().Round(0)
		h = header{RevisionInfo: RevisionInfo{
			Number: last.Number + 1, Time: now, User: m.User, Comment: m.Comment, RolledBackFrom: rolledBackFrom,
		}, ConfigSchema: config.SchemaVersion}
		if m.ConfirmWithin > 0 {
			h.ConfirmBy = now.Add(m.ConfirmWithin)
		}
		if err := putHeader(tx, h); err != nil {
			return err
		}
		return tx.Bucket(bucketSnapshots).Put(key(h.Number), snap)
	})
	if err != nil {
		return RevisionInfo{}, err
	}
	s.setCache(h.Number, cfg)
	s.notify(h.RevisionInfo)
	return h.RevisionInfo, nil
}

// Confirm confirms the pending commit-confirmed revision n, so that it stays.
// Confirming an already confirmed revision is a no-op. A revision that is not pending
// (never was, was rolled back, or whose deadline has passed) is ErrNotPending; an
// unknown one ErrNotFound.
func (s *Store) Confirm(n uint64) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var (
		h       header
		changed bool
	)
	err := s.db.Update(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		if h, ok, err = readHeader(tx, n); err != nil {
			return err
		}
		switch {
		case !ok || n == 0:
			return fmt.Errorf("revision %d: %w", n, ErrNotFound)
		case h.Confirmed:
			return nil
		case !h.Pending():
			return fmt.Errorf("revision %d: %w", n, ErrNotPending)
		}
		if now := s.now(); !now.Before(h.ConfirmBy) {
			return fmt.Errorf("revision %d: deadline %s has passed; it is being rolled back: %w",
				n, h.ConfirmBy.Format(time.RFC3339), ErrNotPending)
		}
		h.ConfirmBy, h.Confirmed, changed = time.Time{}, true, true
		return putHeader(tx, h)
	})
	if err != nil {
		return fmt.Errorf("store: confirm: %w", err)
	}
	if changed {
		s.notify(h.RevisionInfo)
	}
	return nil
}

// AutoRollbackComment is the comment of the revision ExpirePending commits.
func AutoRollbackComment(n uint64) string {
	return fmt.Sprintf("auto rollback of %d: not confirmed", n)
}

// ExpirePending rolls back the pending commit-confirmed revision if its deadline is
// not after now: it commits a new revision equal to the one before the pending one
// (user SystemUser, comment AutoRollbackComment) and returns it. It returns nil when
// nothing was pending or the deadline is still ahead. The daemon calls it from a
// timer and at startup, so a deadline that passed while the box was down rolls back
// on the next start.
func (s *Store) ExpirePending(now time.Time) (*RevisionInfo, error) {
	// Look first without a write transaction: a bbolt commit writes and syncs even
	// when nothing changed, and the daemon calls this often.
	var due bool
	err := s.db.View(func(tx *bolt.Tx) error {
		last, _, err := lastHeader(tx)
		due = last.Pending() && !now.Before(last.ConfirmBy)
		return err
	})
	if err != nil || !due {
		if err != nil {
			err = fmt.Errorf("store: expire pending: %w", err)
		}
		return nil, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var (
		nh  *header
		cfg config.Config
	)
	err = s.db.Update(func(tx *bolt.Tx) error {
		last, _, err := lastHeader(tx)
		if err != nil {
			return err
		}
		if !last.Pending() || now.Before(last.ConfirmBy) { // confirmed meanwhile
			return nil
		}
		prev := last.Number - 1
		cfg = config.Config{}
		if prev > 0 {
			doc, err := readSnapshot(tx, prev)
			if err != nil {
				return err
			}
			if cfg, err = config.DecodeBytes(doc); err != nil {
				return fmt.Errorf("revision %d: %w", prev, err)
			}
		}
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("revision %d no longer validates: %w", prev, err)
		}
		doc, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		snap, err := encodeSnapshot(doc)
		if err != nil {
			return err
		}
		last.ConfirmBy = time.Time{}
		if err := putHeader(tx, last); err != nil {
			return err
		}
		nh = &header{RevisionInfo: RevisionInfo{
			Number: last.Number + 1, Time: s.now().UTC().Round(0), User: SystemUser,
			Comment: AutoRollbackComment(last.Number), RolledBackFrom: prev,
		}, ConfigSchema: config.SchemaVersion}
		if err := putHeader(tx, *nh); err != nil {
			return err
		}
		return tx.Bucket(bucketSnapshots).Put(key(nh.Number), snap)
	})
	if err != nil {
		return nil, fmt.Errorf("store: expire pending: %w", err)
	}
	if nh == nil {
		return nil, nil
	}
	s.setCache(nh.Number, cfg)
	s.notify(nh.RevisionInfo)
	ri := nh.RevisionInfo
	return &ri, nil
}
