package vmlab

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func TestExtraInitramfs(t *testing.T) {
	dir := t.TempDir()
	// A base initramfs: one gzip'd newc archive with /init.
	var base bytes.Buffer
	gz := gzip.NewWriter(&base)
	w := cpio.Newc.Writer(gz)
	if err := cpio.WriteRecords(w, []cpio.Record{cpio.StaticFile("init", "#!/bin/sh\n", 0o755)}); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	basePath := filepath.Join(dir, "base.cpio.gz")
	if err := os.WriteFile(basePath, base.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tool := filepath.Join(dir, "tool")
	if err := os.WriteFile(tool, []byte("TOOL"), 0o755); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "lib.so")
	if err := os.WriteFile(lib, []byte("LIB"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "lib-link.so")
	if err := os.Symlink(lib, link); err != nil {
		t.Fatal(err)
	}

	img, err := ExtraInitramfs(Image{Kernel: "k", Initrd: basePath, Cmdline: "c"}, dir,
		map[string]string{"/bbin/tool": tool, "lib/x86_64-linux-gnu/lib.so.1": link})
	if err != nil {
		t.Fatal(err)
	}
	if img.Kernel != "k" || img.Cmdline != "c" || filepath.Dir(img.Initrd) != dir {
		t.Fatalf("image %+v", img)
	}
	got, err := os.ReadFile(img.Initrd)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got, base.Bytes()) {
		t.Fatal("the combined initrd does not start with the base archive")
	}
	zr, err := gzip.NewReader(bytes.NewReader(got[base.Len():]))
	if err != nil {
		t.Fatalf("the appended part is not gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var listing []string
	for _, r := range recs {
		data, _ := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		listing = append(listing, strings.TrimSpace(r.Name+" "+os.FileMode(r.Mode&0o777).String()+" "+string(data)))
		if r.Mode&cpio.S_IFMT == cpio.S_IFDIR && r.Mode&0o777 != 0o755 {
			t.Errorf("directory %s has mode %o", r.Name, r.Mode&0o777)
		}
	}
	want := []string{
		"bbin -rwxr-xr-x", "bbin/tool -rwxr-xr-x TOOL",
		"lib -rwxr-xr-x", "lib/x86_64-linux-gnu -rwxr-xr-x", "lib/x86_64-linux-gnu/lib.so.1 -rw-r--r-- LIB",
	}
	if !slices.Equal(listing, want) {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(listing, "\n"), strings.Join(want, "\n"))
	}
}

func TestExtraInitramfsMissingFile(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	os.WriteFile(base, nil, 0o644)
	if _, err := ExtraInitramfs(Image{Initrd: base}, dir, map[string]string{"/x": filepath.Join(dir, "nope")}); err == nil {
		t.Fatal("missing host file accepted")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "initrd-extra-*")); len(m) != 0 {
		t.Fatalf("left behind %v", m)
	}
}

func TestParseLdd(t *testing.T) {
	out := `	linux-vdso.so.1 (0x00007efe44a84000)
	libpopt.so.0 => /lib/x86_64-linux-gnu/libpopt.so.0 (0x00007efe44a4d000)
	libnl-genl-3.so.200 => /lib/x86_64-linux-gnu/libnl-genl-3.so.200 (0x00007efe44a46000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007efe44841000)
	/lib64/ld-linux-x86-64.so.2 (0x00007efe44a86000)
`
	got := parseLdd(out)
	want := []string{"/lib/x86_64-linux-gnu/libpopt.so.0", "/lib/x86_64-linux-gnu/libnl-genl-3.so.200",
		"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
}
