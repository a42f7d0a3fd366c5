package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	bolt "go.etcd.io/bbolt"
)

// FileName is the database file inside the data directory.
const FileName = "lvsbox.db"

// SystemUser is the user recorded on revisions the daemon makes by itself (seed
// import, automatic rollback of an unconfirmed change).
const SystemUser = "lvsboxd"

var (
	// ErrConflict: the change was based on a revision that is no longer the current
	// one. Nothing was stored; re-read, merge and retry.
	ErrConflict = errors.New("store: conflict")
	// ErrNotFound: there is no revision with that number.
	ErrNotFound = errors.New("store: no such revision")
	// ErrPendingConfirm: a commit-confirmed change is waiting for its confirmation, and
	// no other change may be committed until it is confirmed or rolled back.
	ErrPendingConfirm = errors.New("store: a commit-confirmed change is pending")
	// ErrNotPending: Confirm named a revision that is not waiting for confirmation
	// (never was, was rolled back, or its deadline has passed).
	ErrNotPending = errors.New("store: revision is not awaiting confirmation")
)

// RevisionInfo describes one revision without its configuration.
type RevisionInfo struct {
	Number  uint64    `json:"number"`
	Time    time.Time `json:"time"`
	User    string    `json:"user,omitempty"`
	Comment string    `json:"comment,omitempty"`
	// ConfirmBy is the deadline of a commit-confirmed revision while it is pending;
	// zero otherwise (also after it was confirmed or rolled back).
	ConfirmBy time.Time `json:"confirm_by,omitzero"`
	// Confirmed is true once a commit-confirmed revision has been confirmed.
	Confirmed bool `json:"confirmed,omitempty"`
	// RolledBackFrom is, on a revision made by Rollback or by an automatic rollback,
	// the number of the older revision whose configuration it restores; 0 otherwise.
	RolledBackFrom uint64 `json:"rolled_back_from,omitempty"`
}

// Pending reports whether the revision is a commit-confirmed change awaiting confirmation.
func (ri RevisionInfo) Pending() bool { return !ri.ConfirmBy.IsZero() }

// Revision is one committed configuration.
type Revision struct {
	RevisionInfo
	Config config.Config `json:"config"`
}

// Meta describes a change: who made it and why. ConfirmWithin > 0 makes it a
// commit-confirmed change that is rolled back unless confirmed within that time.
type Meta struct {
	User          string
	Comment       string
	ConfirmWithin time.Duration
}

// Options tune Open; the zero value is fine.
type Options struct {
	// Now is the clock used to stamp revisions and deadlines (default time.Now).
	Now func() time.Time
	// LockTimeout bounds the wait for another process's lock on the file (default 10s).
	LockTimeout time.Duration
}

// Store is the open configuration database. It is safe for concurrent use.
type cached struct {
	number uint64
	cfg    config.Config
}

type Store struct {
	db  *bolt.DB
	now func() time.Time

	wmu sync.Mutex // serialises commits so that watchers see them in order

	// cache holds the decoded configuration of the newest revision: snapshots never
	// change once written and only this process can write the file (bbolt's lock),
	// so it is valid for as long as its number is the newest. Readers get a Clone.
	cacheMu sync.Mutex
	cache   *cached

	watchMu  sync.Mutex
	watchers map[chan RevisionInfo]struct{}
	closed   bool
}

// Open opens DIR/lvsbox.db, creating it (and DIR) if needed and migrating an older
// format to FormatVersion. A file of a newer format is refused and left untouched.
func Open(dir string, opt Options) (*Store, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.LockTimeout == 0 {
		opt.LockTimeout = 10 * time.Second
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.LockTimeout})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := prepare(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return &Store{db: db, now: opt.Now, watchers: map[chan RevisionInfo]struct{}{}}, nil
}

// Close closes the database file and every Watch channel.
func (s *Store) Close() error {
	s.watchMu.Lock()
	s.closed = true
	for ch := range s.watchers {
		close(ch)
		delete(s.watchers, ch)
	}
	s.watchMu.Unlock()
	return s.db.Close()
}

// Path is the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// Empty reports whether no revision has been committed.
func (s *Store) Empty() (bool, error) {
	var empty bool
	err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketRevisions).Cursor().First()
		empty = k == nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	return empty, nil
}

// Current returns the newest revision; an empty store is revision 0 with the empty
// configuration.
func (s *Store) Current() (Revision, error) {
	var (
		h   header
		doc []byte
		hit *cached
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		if h, ok, err = lastHeader(tx); err != nil || !ok {
			return err
		}
		if hit = s.cached(h.Number); hit != nil {
			return nil
		}
		doc, err = readSnapshot(tx, h.Number)
		return err
	})
	if err != nil {
		return Revision{}, fmt.Errorf("store: current: %w", err)
	}
	if hit != nil {
		return Revision{RevisionInfo: h.RevisionInfo, Config: hit.cfg.Clone()}, nil
	}
	rev, err := decodeRevision(h, doc)
	if err == nil && rev.Number > 0 {
		s.setCache(rev.Number, rev.Config.Clone())
	}
	return rev, err
}

// cached returns the cache entry for revision n, or nil.
func (s *Store) cached(n uint64) *cached {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if s.cache != nil && s.cache.number == n {
		return s.cache
	}
	return nil
}

// setCache remembers cfg (which nobody else may hold) as revision n's configuration.
func (s *Store) setCache(n uint64, cfg config.Config) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if s.cache == nil || n >= s.cache.number {
		s.cache = &cached{number: n, cfg: cfg}
	}
}

// Get returns revision n. Revision 0 is the empty configuration that precedes the
// first commit; a number past the newest revision is ErrNotFound.
func (s *Store) Get(n uint64) (Revision, error) {
	if n == 0 {
		return Revision{}, nil
	}
	var (
		h   header
		doc []byte
		hit *cached
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		if h, ok, err = readHeader(tx, n); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("revision %d: %w", n, ErrNotFound)
		}
		if hit = s.cached(n); hit != nil {
			return nil
		}
		doc, err = readSnapshot(tx, n)
		return err
	})
	if err != nil {
		return Revision{}, fmt.Errorf("store: get: %w", err)
	}
	if hit != nil {
		return Revision{RevisionInfo: h.RevisionInfo, Config: hit.cfg.Clone()}, nil
	}
	return decodeRevision(h, doc)
}

// decodeRevision decodes a snapshot strictly: a stored field the model no longer
// knows is an error naming it, never silently dropped.
func decodeRevision(h header, doc []byte) (Revision, error) {
	if h.Number == 0 {
		return Revision{}, nil
	}
	cfg, err := config.DecodeBytes(doc)
	if err != nil {
		return Revision{}, fmt.Errorf("store: revision %d: %w", h.Number, err)
	}
	return Revision{RevisionInfo: h.RevisionInfo, Config: cfg}, nil
}

// History returns up to limit revisions, newest first, without their
// configurations; limit <= 0 means all.
func (s *Store) History(limit int) ([]RevisionInfo, error) {
	var out []RevisionInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRevisions).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var h header
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("revision %x: header: %w", k, err)
			}
			out = append(out, h.RevisionInfo)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	return out, nil
}

// watchBuffer is the capacity of a Watch channel.
const watchBuffer = 16

// Watch returns a channel that receives the RevisionInfo of every committed revision
// (and of a revision again when it is confirmed), and a function that stops the
// subscription and closes the channel. A subscriber that falls behind loses the oldest
// notifications, never the newest: the store never blocks on a subscriber.
func (s *Store) Watch() (<-chan RevisionInfo, func()) {
	ch := make(chan RevisionInfo, watchBuffer)
	s.watchMu.Lock()
	if s.closed {
		close(ch)
	} else {
		s.watchers[ch] = struct{}{}
	}
	s.watchMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.watchMu.Lock()
			defer s.watchMu.Unlock()
			if _, ok := s.watchers[ch]; ok {
				delete(s.watchers, ch)
				close(ch)
			}
		})
	}
}

// notify sends ri to every watcher without blocking.
func (s *Store) notify(ri RevisionInfo) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	for ch := range s.watchers {
		for {
			select {
			case ch <- ri:
			default:
				select { // full: drop the oldest and try again
				case <-ch:
				default:
				}
				continue
			}
			break
		}
	}
}
