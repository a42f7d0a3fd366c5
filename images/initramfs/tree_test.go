package initramfs

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func sample(t *testing.T) *Tree {
	t.Helper()
	host := t.TempDir()
	if err := os.MkdirAll(filepath.Join(host, "6.1", "kernel"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "6.1", "kernel", "a.ko"), []byte("module"), 0o600); err != nil {
		t.Fatal(err)
	}
	bb := filepath.Join(host, "bb")
	if err := os.WriteFile(bb, []byte("ELF binary"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := NewTree()
	steps := []error{
		tr.Dir("/tmp", 0o1777),
		tr.HostFile("/bbin/bb", 0o755, bb),
		tr.Symlink("/bbin/ls", "bb"),
		tr.Symlink("/init", "bbin/ls"),
		tr.CharDev("/dev/console", 0o600, 5, 1),
		tr.File("/etc/lvsbox/board.json", 0o644, []byte(`{"board":"x"}`)),
		tr.AddHostDir("/lib/modules", host+"/6.1/.."),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func readAll(t *testing.T, data []byte) []cpio.Record {
	t.Helper()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestArchiveContents(t *testing.T) {
	var buf bytes.Buffer
	n, err := sample(t).WriteCPIO(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteCPIO reported %d bytes, wrote %d", n, buf.Len())
	}
	if !bytes.Contains(buf.Bytes()[buf.Len()-512:], []byte(cpio.Trailer+"\x00")) {
		t.Fatal("archive has no trailer record")
	}
	recs := readAll(t, buf.Bytes())
	var names []string
	byName := map[string]cpio.Record{}
	for i, r := range recs {
		names = append(names, r.Name)
		byName[r.Name] = r
		if r.MTime != 0 || r.UID != 0 || r.GID != 0 {
			t.Errorf("%s: mtime %d uid %d gid %d, want zeros", r.Name, r.MTime, r.UID, r.GID)
		}
		if r.Ino != uint64(i+1) {
			t.Errorf("%s: inode %d, want %d", r.Name, r.Ino, i+1)
		}
	}
	want := []string{"bbin", "bbin/bb", "bbin/ls", "dev", "dev/console", "etc", "etc/lvsbox",
		"etc/lvsbox/board.json", "init", "lib", "lib/modules", "lib/modules/6.1", "lib/modules/6.1/kernel",
		"lib/modules/6.1/kernel/a.ko", "lib/modules/bb", "tmp"}
	if !slices.Equal(names, want) {
		t.Fatalf("names = %q\nwant    %q", names, want)
	}
	check := func(name string, mode uint64) cpio.Record {
		r := byName[name]
		if r.Mode != mode {
			t.Errorf("%s: mode %#o, want %#o", name, r.Mode, mode)
		}
		return r
	}
	check("tmp", cpio.S_IFDIR|0o1777)
	check("bbin/bb", cpio.S_IFREG|0o755)
	check("lib/modules/6.1/kernel/a.ko", cpio.S_IFREG|0o644)
	if c := check("dev/console", cpio.S_IFCHR|0o600); c.Rmajor != 5 || c.Rminor != 1 {
		t.Errorf("console is %d:%d, want 5:1", c.Rmajor, c.Rminor)
	}
	link := check("init", cpio.S_IFLNK|0o777)
	target, _ := io.ReadAll(io.NewSectionReader(link, 0, int64(link.FileSize)))
	if string(target) != "bbin/ls" {
		t.Errorf("init -> %q, want bbin/ls", target)
	}
	bb := byName["bbin/bb"]
	content, _ := io.ReadAll(io.NewSectionReader(bb, 0, int64(bb.FileSize)))
	if string(content) != "ELF binary" {
		t.Errorf("bb content = %q", content)
	}
}

func TestGzipIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	rawA, gzA, err := sample(t).WriteGzip(&a)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sample(t).WriteGzip(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two archives of the same tree differ")
	}
	if gzA != int64(a.Len()) {
		t.Fatalf("compressed size %d, wrote %d", gzA, a.Len())
	}
	zr, err := gzip.NewReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Fatalf("gzip header carries mtime %v name %q", zr.ModTime, zr.Name)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(raw)) != rawA {
		t.Fatalf("raw size %d, reported %d", len(raw), rawA)
	}
	readAll(t, raw)
}

func TestAddConflicts(t *testing.T) {
	tr := NewTree()
	if err := tr.File("/etc/a", 0o644, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.File("/etc/a", 0o644, nil); err == nil {
		t.Error("same file added twice")
	}
	if err := tr.File("/etc/a/b", 0o644, nil); err == nil {
		t.Error("file added below a file")
	}
	if err := tr.Dir("/etc", 0o755); err != nil {
		t.Errorf("re-adding an identical directory: %v", err)
	}
	if err := tr.Dir("/", 0o755); err == nil {
		t.Error("root accepted as an entry")
	}
	if _, ok := tr.Get("etc/a"); !ok {
		t.Error("Get without leading slash failed")
	}
}
