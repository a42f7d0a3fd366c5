package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// migrations[v] converts a file of format v to format v+1 inside one write
// transaction. Every format that was ever written has an entry and a fixture in
// testdata (formatN.db) that the tests migrate.
var migrations = map[int]func(tx *bolt.Tx) error{
	1: migrate1to2,
}

// prepare creates the buckets of a new file, or migrates an older file to
// FormatVersion after keeping a copy of it next to the database (lvsbox.db.formatN).
// All migrations run in one transaction, so a crash leaves either the old file or the
// fully migrated one.
func prepare(db *bolt.DB) error {
	version, err := fileVersion(db)
	if err != nil {
		return err
	}
	switch {
	case version > FormatVersion:
		return fmt.Errorf("the file has format %d, newer than this daemon's %d; refusing to touch it", version, FormatVersion)
	case version == FormatVersion:
		return db.View(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketRevisions, bucketSnapshots} {
				if tx.Bucket(b) == nil {
					return fmt.Errorf("format %d file without bucket %q", version, b)
				}
			}
			return nil
		})
	case version > 0:
		if err := backup(db, version); err != nil {
			return fmt.Errorf("copy before migrating from format %d: %w", version, err)
		}
	}
	return db.Update(func(tx *bolt.Tx) error {
		if version == 0 {
			for _, b := range [][]byte{bucketMeta, bucketRevisions, bucketSnapshots} {
				if _, err := tx.CreateBucket(b); err != nil {
					return fmt.Errorf("create bucket %q: %w", b, err)
				}
			}
		}
		for v := version; v > 0 && v < FormatVersion; v++ {
			m, ok := migrations[v]
			if !ok {
				return fmt.Errorf("no migration from format %d", v)
			}
			if err := m(tx); err != nil {
				return fmt.Errorf("migrate format %d to %d: %w", v, v+1, err)
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(FormatVersion)))
	})
}

// fileVersion reads meta/schema; 0 means a new, empty file.
func fileVersion(db *bolt.DB) (int, error) {
	var version int
	err := db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return fmt.Errorf("not an lvsbox store: no %q bucket", bucketMeta)
			}
			return nil
		}
		v := meta.Get(keySchema)
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 {
			return fmt.Errorf("bad format version %q", v)
		}
		version = n
		return nil
	})
	return version, err
}

// backup writes a consistent copy of the file to PATH.formatN (via a temporary
// file and a rename, so a crash never leaves a half-written copy under that name).
func backup(db *bolt.DB, version int) error {
	dst := fmt.Sprintf("%s.format%d", db.Path(), version)
	tmp := dst + ".tmp"
	return db.View(func(tx *bolt.Tx) error {
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := tx.WriteTo(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(tmp, dst)
	})
}

// v1Revision is a format 1 revisions/<n> value: metadata and snapshot together.
type v1Revision struct {
	Number  uint64          `json:"number"`
	Time    time.Time       `json:"time"`
	Comment string          `json:"comment"`
	Config  json.RawMessage `json:"config"`
}

// migrate1to2 splits every format 1 record into a header (revisions/<n>) and a
// compressed snapshot (snapshots/<n>). Format 1 stored config document schema 1.
func migrate1to2(tx *bolt.Tx) error {
	revs := tx.Bucket(bucketRevisions)
	if revs == nil {
		return fmt.Errorf("no %q bucket", bucketRevisions)
	}
	type kv struct{ k, v []byte }
	var all []kv
	if err := revs.ForEach(func(k, v []byte) error {
		all = append(all, kv{bytes.Clone(k), bytes.Clone(v)})
		return nil
	}); err != nil {
		return err
	}
	snaps, err := tx.CreateBucketIfNotExists(bucketSnapshots)
	if err != nil {
		return err
	}
	for _, e := range all {
		n, err := number(e.k)
		if err != nil {
			return err
		}
		var old v1Revision
		if err := json.Unmarshal(e.v, &old); err != nil {
			return fmt.Errorf("revision %d: %w", n, err)
		}
		if old.Number != n {
			return fmt.Errorf("revision %d: record says number %d", n, old.Number)
		}
		var doc bytes.Buffer
		if err := json.Compact(&doc, old.Config); err != nil {
			return fmt.Errorf("revision %d: snapshot: %w", n, err)
		}
		snap, err := encodeSnapshot(doc.Bytes())
		if err != nil {
			return err
		}
		if err := snaps.Put(e.k, snap); err != nil {
			return err
		}
		h := header{RevisionInfo: RevisionInfo{Number: n, Time: old.Time, Comment: old.Comment}, ConfigSchema: 1}
		if err := putHeader(tx, h); err != nil {
			return err
		}
	}
	return nil
}
