package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	bolt "go.etcd.io/bbolt"
)

// FileName is the database file inside the data directory.
const FileName = "lvsbox.db"

var (
	bucketRevisions = []byte("revisions")
	bucketMeta      = []byte("meta")
	keySchema       = []byte("schema")
)

// ErrEmpty is returned by Current when no revision has been committed yet.
var ErrEmpty = errors.New("store: no configuration committed yet")

// Revision is one committed configuration.
type Revision struct {
	Number  uint64          `json:"number"`
	Time    time.Time       `json:"time"`
	Comment string          `json:"comment"`
	Config  json.RawMessage `json:"config"`
}

// Decode parses the revision's snapshot.
func (r Revision) Decode() (config.Config, error) {
	c, err := config.DecodeBytes(r.Config)
	if err != nil {
		return config.Config{}, fmt.Errorf("store: revision %d: %w", r.Number, err)
	}
	return c, nil
}

// Store is the open configuration database. It is safe for concurrent use.
type Store struct {
	db  *bolt.DB
	now func() time.Time
}

// Options tune Open; the zero value is fine.
type Options struct {
	// Now is the clock used to stamp revisions (default time.Now).
	Now func() time.Time
	// LockTimeout bounds the wait for another process's lock on the file (default 10s).
	LockTimeout time.Duration
}

// Open opens (creating if needed) DIR/lvsbox.db.
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
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketRevisions); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		want := []byte(fmt.Sprint(config.SchemaVersion))
		got := meta.Get(keySchema)
		if got == nil {
			return meta.Put(keySchema, want)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("schema %s in the file, this daemon knows schema %s", got, want)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: init %s: %w", path, err)
	}
	return &Store{db: db, now: opt.Now}, nil
}

// Close closes the database file.
func (s *Store) Close() error { return s.db.Close() }

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

// Commit validates cfg and stores it as the next revision, returning its number.
// An invalid cfg returns the validation errors (config.Errors) and stores nothing.
func (s *Store) Commit(cfg config.Config, comment string) (uint64, error) {
	if err := cfg.Validate(); err != nil {
		return 0, fmt.Errorf("store: commit: %w", err)
	}
	snapshot, err := json.Marshal(cfg)
	if err != nil {
		return 0, fmt.Errorf("store: commit: encode: %w", err)
	}
	var n uint64
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRevisions)
		var err error
		if n, err = b.NextSequence(); err != nil {
			return err
		}
		rev := Revision{Number: n, Time: s.now().UTC(), Comment: comment, Config: snapshot}
		data, err := json.Marshal(rev)
		if err != nil {
			return err
		}
		return b.Put(key(n), data)
	})
	if err != nil {
		return 0, fmt.Errorf("store: commit: %w", err)
	}
	return n, nil
}

// Current returns the newest revision, or ErrEmpty.
func (s *Store) Current() (Revision, error) {
	var rev Revision
	err := s.db.View(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketRevisions).Cursor().Last()
		if k == nil {
			return ErrEmpty
		}
		return json.Unmarshal(v, &rev)
	})
	if errors.Is(err, ErrEmpty) {
		return Revision{}, ErrEmpty
	}
	if err != nil {
		return Revision{}, fmt.Errorf("store: current: %w", err)
	}
	return rev, nil
}

// Get returns revision n.
func (s *Store) Get(n uint64) (Revision, error) {
	var rev Revision
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRevisions).Get(key(n))
		if v == nil {
			return fmt.Errorf("no revision %d", n)
		}
		return json.Unmarshal(v, &rev)
	})
	if err != nil {
		return Revision{}, fmt.Errorf("store: get: %w", err)
	}
	return rev, nil
}

// List returns all revisions, oldest first, without their snapshots.
func (s *Store) List() ([]Revision, error) {
	var out []Revision
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRevisions).ForEach(func(_, v []byte) error {
			var rev Revision
			if err := json.Unmarshal(v, &rev); err != nil {
				return err
			}
			rev.Config = nil
			out = append(out, rev)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	return out, nil
}

// key encodes a revision number so that byte order is numeric order.
func key(n uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, n)
}
