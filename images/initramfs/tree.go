package initramfs

import (
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// Kind is an entry's file type.
type Kind int

// The entry kinds an initramfs needs.
const (
	Dir Kind = iota
	File
	Symlink
	CharDev
)

// Entry is one file in the image.
type Entry struct {
	Kind   Kind
	Perm   uint64 // permission bits, e.g. 0o755 (sticky 0o1000 allowed)
	Data   []byte // File contents, when Source is empty
	Source string // File contents from this host path
	Target string // Symlink target
	Major  uint64 // CharDev
	Minor  uint64 // CharDev
}

// Tree is the set of entries keyed by image path (relative, no leading /).
type Tree struct {
	entries map[string]Entry
}

// NewTree returns an empty tree.
func NewTree() *Tree { return &Tree{entries: map[string]Entry{}} }

// clean normalizes an image path ("/bbin/bb" -> "bbin/bb").
func clean(p string) (string, error) {
	c := path.Clean("/" + p)
	if c == "/" {
		return "", fmt.Errorf("initramfs: bad path %q", p)
	}
	return strings.TrimPrefix(c, "/"), nil
}

// Add puts e at p, creating missing parent directories (0755). Adding a
// different entry at an existing path is an error; adding the same
// directory twice is not.
func (t *Tree) Add(p string, e Entry) error {
	name, err := clean(p)
	if err != nil {
		return err
	}
	if old, ok := t.entries[name]; ok {
		if old.Kind == Dir && e.Kind == Dir && old.Perm == e.Perm {
			return nil
		}
		return fmt.Errorf("initramfs: %s added twice", name)
	}
	if dir := path.Dir(name); dir != "." {
		if parent, ok := t.entries[dir]; ok && parent.Kind != Dir {
			return fmt.Errorf("initramfs: parent of %s is not a directory", name)
		} else if !ok {
			if err := t.Add(dir, Entry{Kind: Dir, Perm: 0o755}); err != nil {
				return err
			}
		}
	}
	t.entries[name] = e
	return nil
}

// Dir adds a directory.
func (t *Tree) Dir(p string, perm uint64) error { return t.Add(p, Entry{Kind: Dir, Perm: perm}) }

// File adds a file with the given contents.
func (t *Tree) File(p string, perm uint64, data []byte) error {
	return t.Add(p, Entry{Kind: File, Perm: perm, Data: data})
}

// HostFile adds a file whose contents are read from src when the archive is
// written.
func (t *Tree) HostFile(p string, perm uint64, src string) error {
	return t.Add(p, Entry{Kind: File, Perm: perm, Source: src})
}

// Symlink adds a symbolic link.
func (t *Tree) Symlink(p, target string) error {
	return t.Add(p, Entry{Kind: Symlink, Perm: 0o777, Target: target})
}

// CharDev adds a character device node.
func (t *Tree) CharDev(p string, perm, major, minor uint64) error {
	return t.Add(p, Entry{Kind: CharDev, Perm: perm, Major: major, Minor: minor})
}

// AddHostDir adds every directory (0755) and regular file (0644) under
// hostDir at prefix. Symlinks and special files are errors.
func (t *Tree) AddHostDir(prefix, hostDir string) error {
	return filepath.WalkDir(hostDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(hostDir, p)
		if err != nil {
			return err
		}
		dst := path.Join(prefix, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			return t.Dir(dst, 0o755)
		case d.Type().IsRegular():
			return t.HostFile(dst, 0o644, p)
		default:
			return fmt.Errorf("initramfs: %s: unsupported file type %v", p, d.Type())
		}
	})
}

// Paths returns the sorted image paths. Byte order puts every directory
// before its contents.
func (t *Tree) Paths() []string {
	ps := make([]string, 0, len(t.entries))
	for p := range t.entries {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// Get returns the entry at p.
func (t *Tree) Get(p string) (Entry, bool) {
	name, err := clean(p)
	if err != nil {
		return Entry{}, false
	}
	e, ok := t.entries[name]
	return e, ok
}

// record turns an entry into a cpio record. Every field that could vary
// between hosts or runs (mtime, uid, gid, dev) stays zero; the inode number
// comes from the sorted position.
func record(name string, ino uint64, e Entry) (cpio.Record, error) {
	info := cpio.Info{Name: name, Ino: ino, NLink: 1}
	switch e.Kind {
	case Dir:
		r := cpio.Directory(name, e.Perm)
		r.Info.Ino, r.Info.NLink = ino, 2
		return r, nil
	case Symlink:
		r := cpio.Symlink(name, e.Target)
		r.Info.Ino, r.Info.NLink = ino, 1
		return r, nil
	case CharDev:
		r := cpio.CharDev(name, e.Perm, e.Major, e.Minor)
		r.Info.Ino, r.Info.NLink = ino, 1
		return r, nil
	case File:
		info.Mode = cpio.S_IFREG | e.Perm
		if e.Source == "" {
			return cpio.StaticRecord(e.Data, info), nil
		}
		f, err := os.Open(e.Source)
		if err != nil {
			return cpio.Record{}, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return cpio.Record{}, err
		}
		if !st.Mode().IsRegular() {
			f.Close()
			return cpio.Record{}, fmt.Errorf("%s is not a regular file", e.Source)
		}
		info.FileSize = uint64(st.Size())
		return cpio.Record{ReaderAt: f, Info: info}, nil
	}
	return cpio.Record{}, fmt.Errorf("unknown kind %d", e.Kind)
}

// WriteCPIO writes the archive (with trailer) to w and returns its size.
func (t *Tree) WriteCPIO(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	rw := cpio.Newc.Writer(cw)
	for i, p := range t.Paths() {
		r, err := record(p, uint64(i+1), t.entries[p])
		if err != nil {
			return cw.n, fmt.Errorf("initramfs: %s: %w", p, err)
		}
		if err := rw.WriteRecord(r); err != nil {
			if c, ok := r.ReaderAt.(io.Closer); ok {
				c.Close()
			}
			return cw.n, fmt.Errorf("initramfs: %s: %w", p, err)
		}
	}
	if err := cpio.WriteTrailer(rw); err != nil {
		return cw.n, fmt.Errorf("initramfs: trailer: %w", err)
	}
	return cw.n, nil
}

// WriteGzip writes the gzip-compressed archive to w (best compression, no
// name, mtime 0) and returns the raw and compressed sizes.
func (t *Tree) WriteGzip(w io.Writer) (raw, compressed int64, err error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, gzip.BestCompression)
	if err != nil {
		return 0, 0, fmt.Errorf("initramfs: %w", err)
	}
	raw, err = t.WriteCPIO(zw)
	if err != nil {
		return 0, 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, 0, fmt.Errorf("initramfs: gzip: %w", err)
	}
	return raw, cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
