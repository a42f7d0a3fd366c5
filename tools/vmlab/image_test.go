package vmlab

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBoardCmdline(t *testing.T) {
	dir := t.TempDir()
	if got, err := BoardCmdline(filepath.Join(dir, "missing.json")); err != nil || got != "" {
		t.Fatalf("missing file: %q %v", got, err)
	}
	p := filepath.Join(dir, "board.json")
	os.WriteFile(p, []byte(`{"board":"qemu-x86_64","cmdline":"console=ttyS0,115200 panic=-1 quiet"}`), 0o644)
	if got, err := BoardCmdline(p); err != nil || got != "console=ttyS0,115200 panic=-1 quiet" {
		t.Fatalf("cmdline: %q %v", got, err)
	}
	os.WriteFile(p, []byte(`{"board":"qemu-x86_64"}`), 0o644)
	if got, err := BoardCmdline(p); err != nil || got != "" {
		t.Fatalf("no field: %q %v", got, err)
	}
	os.WriteFile(p, []byte(`{`), 0o644)
	if _, err := BoardCmdline(p); err == nil {
		t.Fatal("accepted broken JSON")
	}
}

func TestFindImage(t *testing.T) {
	root := t.TempDir()
	if _, err := FindImage(root, "b"); !errors.Is(err, ErrNoImage) {
		t.Fatalf("empty root: %v, want ErrNoImage", err)
	}
	out := filepath.Join(root, "out", "b")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "vmlinuz"), nil, 0o644)
	if _, err := FindImage(root, "b"); !errors.Is(err, ErrNoImage) {
		t.Fatalf("no initramfs: %v, want ErrNoImage", err)
	}
	os.WriteFile(filepath.Join(out, "initramfs.cpio.gz"), nil, 0o644)
	img, err := FindImage(root, "b")
	if err != nil {
		t.Fatal(err)
	}
	if img.Kernel != filepath.Join(out, "vmlinuz") || img.Cmdline != DefaultCmdline {
		t.Fatalf("image %+v", img)
	}
	os.MkdirAll(filepath.Join(root, "board", "b"), 0o755)
	os.WriteFile(filepath.Join(root, "board", "b", "board.json"), []byte(`{"cmdline":"from-board"}`), 0o644)
	if img, _ := FindImage(root, "b"); img.Cmdline != "from-board" {
		t.Fatalf("cmdline %q, want the board's", img.Cmdline)
	}
	os.WriteFile(filepath.Join(out, "manifest.json"), []byte(`{"cmdline":"from-manifest"}`), 0o644)
	if img, _ := FindImage(root, "b"); img.Cmdline != "from-manifest" {
		t.Fatalf("cmdline %q, want the manifest's", img.Cmdline)
	}
}

func TestLogDirSanitizesTestNames(t *testing.T) {
	d, err := LogDir("TestNAT/wrr 3:1/../x")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := RepoRoot()
	rel, _ := filepath.Rel(root, d)
	if rel != filepath.Join("out", "vmtest-logs", "TestNAT", "wrr_3_1", "_", "x") || strings.Contains(rel, "..") {
		t.Fatalf("LogDir = %s", rel)
	}
}

func TestGuestMACsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for g := 0; g < 4; g++ {
		for n := 0; n < 4; n++ {
			m := GuestMAC(g, n)
			if seen[m] {
				t.Fatalf("duplicate MAC %s", m)
			}
			seen[m] = true
		}
	}
	if GuestMAC(1, 2) != "52:54:00:4c:01:02" {
		t.Fatalf("GuestMAC(1,2) = %s", GuestMAC(1, 2))
	}
}

func TestShellQuote(t *testing.T) {
	got := ShellQuote([]string{"qemu", "-append", "console=ttyS0 panic=-1", "it's", "", "a=b,c"})
	want := `qemu -append 'console=ttyS0 panic=-1' 'it'\''s' '' a=b,c`
	if got != want {
		t.Fatalf("ShellQuote = %s, want %s", got, want)
	}
}
