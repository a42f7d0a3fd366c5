package store

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fixture copies testdata/formatN.db into a new data directory.
func fixture(t testing.TB, version int) string {
	t.Helper()
	src, err := os.Open(filepath.Join("testdata", fmt.Sprintf("format%d.db", version)))
	if err != nil {
		t.Fatalf("every format needs a fixture: %v", err)
	}
	defer src.Close()
	dir := t.TempDir()
	dst, err := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkStore verifies the invariants every store must keep: a consistent bbolt file,
// the current format, revisions 1..N without gaps each with its snapshot, every
// snapshot readable and the newest one decoding and validating. It returns N.
func checkStore(t testing.TB, s *Store) uint64 {
	t.Helper()
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("bbolt check: %w", err)
		}
		if v := tx.Bucket(bucketMeta).Get(keySchema); string(v) != strconv.Itoa(FormatVersion) {
			return fmt.Errorf("format %q, want %d", v, FormatVersion)
		}
		c := tx.Bucket(bucketRevisions).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			got, err := number(k)
			if err != nil {
				return err
			}
			if got != n+1 {
				return fmt.Errorf("revision %d follows %d", got, n)
			}
			n = got
			h, _, err := readHeader(tx, n)
			if err != nil {
				return err
			}
			if h.Number != n {
				return fmt.Errorf("revision %d: header says %d", n, h.Number)
			}
			if _, err := readSnapshot(tx, n); err != nil {
				return err
			}
		}
		if k, _ := tx.Bucket(bucketSnapshots).Cursor().Last(); k != nil && !bytes.Equal(k, key(n)) {
			return fmt.Errorf("snapshot %x without a revision", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Current()
	if err != nil {
		t.Fatal(err)
	}
	if cur.Number != n {
		t.Fatalf("current is %d, newest key %d", cur.Number, n)
	}
	if err := cur.Config.Validate(); err != nil {
		t.Fatalf("revision %d does not validate: %v", n, err)
	}
	return n
}

func TestEveryFormatHasFixtureAndMigration(t *testing.T) {
	for v := 1; v <= FormatVersion; v++ {
		t.Run(fmt.Sprint("format", v), func(t *testing.T) {
			if v < FormatVersion && migrations[v] == nil {
				t.Fatalf("no migration from format %d", v)
			}
			dir := fixture(t, v)
			s := openAt(t, dir, newClock())
			if n := checkStore(t, s); n < 3 {
				t.Fatalf("fixture has %d revisions; keep at least 3", n)
			}
			for n := uint64(1); n <= 3; n++ {
				rev, err := s.Get(n)
				if err != nil {
					t.Fatal(err)
				}
				if err := rev.Config.Validate(); err != nil {
					t.Fatalf("revision %d: %v", n, err)
				}
			}
			_, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%s.format%d", FileName, v)))
			if v < FormatVersion && err != nil {
				t.Fatalf("no copy kept before migrating: %v", err)
			}
			if v == FormatVersion && err == nil {
				t.Fatal("a copy was made without a migration")
			}
		})
	}
}

func TestMigrateFormat1(t *testing.T) {
	dir := fixture(t, 1)
	c := newClock()
	s := openAt(t, dir, c)
	hist, err := s.History(0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"3 rename, add dns", "2 add 198.51.100.12 to web", "1 seed import"}
	if len(hist) != len(want) {
		t.Fatalf("history = %+v", hist)
	}
	for i, h := range hist {
		if got := fmt.Sprint(h.Number, " ", h.Comment); got != want[i] {
			t.Fatalf("history[%d] = %q, want %q", i, got, want[i])
		}
		if wantTime := time.Date(2026, 11, 5, 10, int(h.Number), 0, 0, time.UTC); !h.Time.Equal(wantTime) {
			t.Fatalf("revision %d time %s, want %s", h.Number, h.Time, wantTime)
		}
	}
	cur, _ := s.Current()
	if cur.Config.System.Hostname != "lb1" || len(cur.Config.VirtualServices) != 2 || cur.Config.VirtualServices[1].Name != "dns" {
		t.Fatalf("revision 3 = %+v", cur.Config)
	}
	d, err := s.Diff(1, 2)
	if err != nil || len(d) != 1 || d[0].Op != OpAdd || d[0].Path != "virtual_services[web].real_servers[1]" {
		t.Fatalf("diff 1 2 = %+v, %v", d, err)
	}
	apply(t, s, 3, cfg(t, seedJSON), Meta{User: "frank"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening a migrated file migrates nothing again.
	s = openAt(t, dir, c)
	if n := checkStore(t, s); n != 4 {
		t.Fatalf("after reopen: %d revisions", n)
	}
	// The copy is the untouched format 1 file.
	old, err := bolt.Open(filepath.Join(dir, FileName+".format1"), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	old.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchema); string(v) != "1" || tx.Bucket(bucketSnapshots) != nil {
			t.Errorf("copy is not format 1: schema %q", v)
		}
		return nil
	})
}

func TestNewerFormatIsRefusedAndUntouched(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, newClock())
	apply(t, s, 0, cfg(t, seedJSON), Meta{})
	s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(FormatVersion+1)))
	})
	s.Close()
	path := filepath.Join(dir, FileName)
	before, _ := os.ReadFile(path)
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("a newer format was opened")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("the newer file was modified")
	}
}

func TestForeignFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
	db.Close()
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("a bbolt file of another program was opened")
	}
}

func TestSnapshotCodecs(t *testing.T) {
	doc := []byte(seedJSON)
	z, err := encodeSnapshot(doc)
	if err != nil || z[0] != codecDeflate {
		t.Fatalf("encode: %v", err)
	}
	for _, v := range [][]byte{z, append([]byte{codecJSON}, doc...)} {
		got, err := decodeSnapshot(v)
		if err != nil || !bytes.Equal(got, doc) {
			t.Fatalf("decode %q: %s, %v", v[0], got, err)
		}
	}
	for _, bad := range [][]byte{nil, {'?', '{'}, {codecDeflate, 0xff, 0xff}} {
		if _, err := decodeSnapshot(bad); err == nil {
			t.Fatalf("decoded %x", bad)
		}
	}
	if _, err := decodeSnapshot([]byte{codecDeflate}); err == nil {
		t.Fatalf("decoded an empty deflate stream: %v", err)
	}
}
