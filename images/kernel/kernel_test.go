package kernel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/images/board"
	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
)

const metaShow = `Package: linux-image-amd64
Source: linux-signed-amd64 (6.1.192+2)
Version: 6.1.192-2
Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)
Description: Linux for 64-bit PCs (meta-package)
 This package depends on the latest Linux kernel.
`

func concreteShow(sha string) string {
	return `Package: linux-image-6.1.0-56-amd64
Version: 6.1.192-2
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
SHA256: ` + sha + `
`
}

func TestParseStanzaAndKernelDependency(t *testing.T) {
	s, err := parseStanza([]byte(metaShow + "\nPackage: second\nVersion: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s["Package"] != "linux-image-amd64" || !strings.Contains(s["Description"], "latest Linux kernel") {
		t.Fatalf("stanza = %v", s)
	}
	pkg, ver, ok := kernelDependency(s)
	if !ok || pkg != "linux-image-6.1.0-56-amd64" || ver != "6.1.192-2" {
		t.Fatalf("kernelDependency = %q %q %v", pkg, ver, ok)
	}
	c, err := parseStanza([]byte(concreteShow("ab")))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := kernelDependency(c); ok {
		t.Fatal("a concrete kernel package was taken for a metapackage")
	}
	if _, err := parseStanza([]byte("garbage\n")); err == nil {
		t.Fatal("parseStanza accepted garbage")
	}
}

func TestDebFileNameEscapesEpoch(t *testing.T) {
	if got := debFileName("p", "1:2.3-4"); got != "p_1%3a2.3-4_amd64.deb" {
		t.Fatalf("debFileName = %q", got)
	}
}

// fakeApt plays apt-cache, apt-get, dpkg-deb and depmod against a temporary
// directory and counts what ran.
type fakeApt struct {
	t        *testing.T
	deb      []byte
	known    bool // apt-cache knows the packages (else only after update)
	calls    []string
	failWith error
}

func (f *fakeApt) run(_ context.Context, c hostcmd.Cmd) ([]byte, error) {
	f.calls = append(f.calls, c.Name+" "+strings.Join(c.Args, " "))
	if f.failWith != nil {
		return nil, f.failWith
	}
	switch c.Name {
	case "apt-cache":
		if !f.known {
			return nil, errors.New("E: No packages found")
		}
		spec := c.Args[len(c.Args)-1]
		if strings.HasPrefix(spec, "linux-image-amd64") {
			return []byte(metaShow), nil
		}
		sum := sha256.Sum256(f.deb)
		return []byte(concreteShow(hex.EncodeToString(sum[:]))), nil
	case "apt-get":
		if c.Args[len(c.Args)-1] == "update" {
			f.known = true
			return nil, nil
		}
		pkg, ver, _ := strings.Cut(c.Args[len(c.Args)-1], "=")
		return nil, os.WriteFile(filepath.Join(c.Dir, debFileName(pkg, ver)), f.deb, 0o644)
	case "dpkg-deb":
		root := c.Args[2]
		for _, p := range []string{"boot/vmlinuz-6.1.0-56-amd64", "lib/modules/6.1.0-56-amd64/kernel/x.ko"} {
			if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(root, p), []byte("x"), 0o644); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case "depmod":
		n := len(c.Args)
		return nil, os.WriteFile(filepath.Join(c.Args[n-2], "lib/modules", c.Args[n-1], "modules.dep"), []byte("kernel/x.ko:\n"), 0o644)
	}
	f.t.Fatalf("unexpected command %s", c)
	return nil, nil
}

func (f *fakeApt) count(prefix string) int {
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func newFetcher(t *testing.T, f *fakeApt) Fetcher {
	return Fetcher{Run: hostcmd.Func(f.run), CacheDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestFetchResolvesMetapackageAndCaches(t *testing.T) {
	f := &fakeApt{t: t, deb: []byte("deb contents"), known: false}
	fe := newFetcher(t, f)
	k, err := fe.Fetch(context.Background(), board.Kernel{Package: "linux-image-amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if k.Package != "linux-image-6.1.0-56-amd64" || k.Version != "6.1.192-2" || k.Release != "6.1.0-56-amd64" || k.Requested != "linux-image-amd64" {
		t.Fatalf("kernel = %+v", k)
	}
	if _, err := os.Stat(k.Vmlinuz); err != nil {
		t.Fatal(err)
	}
	if f.count("apt-get -qq update") != 1 {
		t.Fatalf("apt-get update ran %d times, want once (apt-cache did not know the package): %q", f.count("apt-get -qq update"), f.calls)
	}
	f.calls = nil
	if _, err := fe.Fetch(context.Background(), board.Kernel{Package: "linux-image-amd64"}); err != nil {
		t.Fatal(err)
	}
	if f.count("apt-get") != 0 || f.count("dpkg-deb") != 0 {
		t.Fatalf("second fetch downloaded or unpacked again: %q", f.calls)
	}
}

func TestFetchPinnedAndCachedNeedsNoApt(t *testing.T) {
	f := &fakeApt{t: t, deb: []byte("deb"), known: true}
	fe := newFetcher(t, f)
	pin := board.Kernel{Package: "linux-image-6.1.0-56-amd64", Version: "6.1.192-2"}
	if _, err := fe.Fetch(context.Background(), pin); err != nil {
		t.Fatal(err)
	}
	f.calls, f.failWith = nil, errors.New("offline")
	k, err := fe.Fetch(context.Background(), pin)
	if err != nil {
		t.Fatalf("pinned cached fetch failed offline: %v (calls %q)", err, f.calls)
	}
	if k.Version != "6.1.192-2" {
		t.Fatalf("version = %q", k.Version)
	}
}

func TestFetchRejectsChecksumMismatch(t *testing.T) {
	f := &fakeApt{t: t, deb: []byte("deb"), known: true}
	fe := newFetcher(t, f)
	run := fe.Run
	fe.Run = hostcmd.Func(func(ctx context.Context, c hostcmd.Cmd) ([]byte, error) {
		if c.Name == "apt-cache" && strings.Contains(c.String(), "6.1.0-56") {
			return []byte(concreteShow(strings.Repeat("0", 64))), nil
		}
		return run.Run(ctx, c)
	})
	_, err := fe.Fetch(context.Background(), board.Kernel{Package: "linux-image-amd64"})
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("Fetch = %v, want a checksum error", err)
	}
}

func TestFetchReplacesPartialCacheEntry(t *testing.T) {
	f := &fakeApt{t: t, deb: []byte("deb"), known: true}
	fe := newFetcher(t, f)
	partial := filepath.Join(fe.CacheDir, "kernel-linux-image-6.1.0-56-amd64_6.1.192-2")
	if err := os.MkdirAll(filepath.Join(partial, "junk"), 0o755); err != nil {
		t.Fatal(err)
	}
	k, err := fe.Fetch(context.Background(), board.Kernel{Package: "linux-image-amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if k.Root != partial {
		t.Fatalf("root = %s, want %s", k.Root, partial)
	}
	if _, err := os.Stat(filepath.Join(partial, "junk")); !os.IsNotExist(err) {
		t.Fatalf("partial entry kept (err %v)", err)
	}
}
