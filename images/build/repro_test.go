package build

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/testenv"

	"github.com/lvsbox/lvsbox/images/board"
	"github.com/lvsbox/lvsbox/images/busybox"
	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
	"github.com/lvsbox/lvsbox/images/manifest"
	"github.com/u-root/u-root/pkg/cpio"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root not found: %v", err)
	}
	return dir
}

// kernelCached reports whether out/cache holds an unpacked kernel.
func kernelCached(cache string) bool {
	m, _ := filepath.Glob(filepath.Join(cache, "kernel-*", ".lvsbox-kernel.json"))
	return len(m) > 0
}

func mirrorReachable() bool {
	c, err := net.DialTimeout("tcp", "deb.debian.org:80", 5*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Two builds from the same inputs give a byte-identical initramfs, and the
// image holds what the contracts promise.
func TestReproducibleImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the image twice (-short)")
	}
	testenv.NeedTools(t, "apt-get", "apt-cache", "dpkg-deb", "depmod", "modprobe", "go", "git")
	repo := repoRoot(t)
	_, _, err := busybox.Select(repo, busybox.Commands, false)
	testenv.Need(t, err == nil, "command packages missing: %v", err)
	cache := filepath.Join(repo, "out", "cache")
	testenv.Need(t, kernelCached(cache) || mirrorReachable(), "no cached kernel and the Debian mirror is unreachable")

	ctx := context.Background()
	var ms [2]manifest.Manifest
	var dirs [2]string
	for i := range ms {
		dirs[i] = t.TempDir()
		ms[i], err = Build(ctx, Options{
			RepoDir: repo, Board: "qemu-x86_64", OutDir: dirs[i], CacheDir: cache,
			Run: hostcmd.Exec{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now,
		})
		if err != nil {
			t.Fatalf("build %d: %v", i+1, err)
		}
		t.Logf("build %d: %.1f s, initramfs %d raw / %d gzip", i+1, ms[i].BuildSeconds, ms[i].Initramfs.RawBytes, ms[i].Initramfs.Bytes)
	}
	if ms[0].Initramfs.SHA256 != ms[1].Initramfs.SHA256 {
		t.Fatalf("initramfs differs between builds: %s vs %s (busybox %s vs %s)",
			ms[0].Initramfs.SHA256, ms[1].Initramfs.SHA256, ms[0].Busybox.SHA256, ms[1].Busybox.SHA256)
	}
	for i, d := range dirs {
		got, err := fileSHA(filepath.Join(d, InitramfsName))
		if err != nil {
			t.Fatal(err)
		}
		if got != ms[i].Initramfs.SHA256 {
			t.Fatalf("manifest sha256 %s does not match the file (%s)", ms[i].Initramfs.SHA256, got)
		}
	}
	checkImage(t, dirs[0], ms[0])
}

func fileSHA(p string) (string, error) {
	m, err := fileRecord(p, "")
	return m.SHA256, err
}

// checkImage reads the archive back and checks the contract files and the
// module closure.
func checkImage(t *testing.T, dir string, m manifest.Manifest) {
	f, err := os.Open(filepath.Join(dir, InitramfsName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, r := range recs {
		data, _ := io.ReadAll(io.NewSectionReader(r, 0, int64(r.FileSize)))
		files["/"+r.Name] = data
	}
	checkGODEBUG(t, files["/bbin/bb"])
	if string(files[InitPath]) != InitTarget {
		t.Errorf("/init -> %q, want %q", files[InitPath], InitTarget)
	}
	var img board.Image
	if err := json.Unmarshal(files[BoardFile], &img); err != nil {
		t.Fatalf("%s: %v", BoardFile, err)
	}
	if img.Board != "qemu-x86_64" || img.Console != "ttyS0" || len(img.Modules) == 0 {
		t.Errorf("board.json = %+v", img)
	}
	var ver manifest.Version
	if err := json.Unmarshal(files[VersionFile], &ver); err != nil {
		t.Fatalf("%s: %v", VersionFile, err)
	}
	if ver.KernelVersion != m.Kernel.Release || ver.GoVersion != m.GoVersion || ver.GitRevision != m.GitRevision {
		t.Errorf("version.json = %+v, manifest %+v", ver, m)
	}
	md := ModulesPrefix + "/" + m.Kernel.Release + "/"
	for _, idx := range []string{"modules.dep", "modules.alias", "modules.softdep", "modules.builtin", "modules.order"} {
		if _, ok := files[md+idx]; !ok {
			t.Errorf("%s missing", md+idx)
		}
	}
	// Every listed module and each of its dependencies is in the image.
	byName := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(files[md+"modules.dep"]))
	for sc.Scan() {
		mod, deps, _ := strings.Cut(sc.Text(), ":")
		byName[modName(mod)] = append([]string{mod}, strings.Fields(deps)...)
	}
	for _, name := range append(append([]string{}, img.Modules...), img.OptionalModules...) {
		paths, ok := byName[name]
		if !ok {
			t.Errorf("module %s is listed but not in modules.dep", name)
			continue
		}
		for _, p := range paths {
			if _, ok := files[md+p]; !ok {
				t.Errorf("module %s: %s is not in the image", name, p)
			}
		}
	}
	// Softdep targets resolve to a module in the image (by name or alias).
	aliases := string(files[md+"modules.alias"])
	sc = bufio.NewScanner(bytes.NewReader(files[md+"modules.softdep"]))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] != "softdep" {
			continue
		}
		for _, target := range f[2:] {
			if strings.HasSuffix(target, ":") {
				continue
			}
			if _, ok := byName[board.CanonicalModule(target)]; !ok && !strings.Contains(aliases, "alias "+target+" ") {
				t.Errorf("softdep %s -> %s: nothing in the image provides it", f[1], target)
			}
		}
	}
}

func modName(p string) string {
	return board.CanonicalModule(strings.TrimSuffix(filepath.Base(p), ".ko"))
}

// checkGODEBUG fails when the busybox binary carries old GODEBUG defaults (a
// GOPATH-mode build gets Go 1.20's: httpmuxgo121=1, asynctimerchan=1, ...).
func checkGODEBUG(t *testing.T, bb []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bb")
	if err := os.WriteFile(p, bb, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "version", "-m", p).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m bbin/bb: %v\n%s", err, out)
	}
	if bytes.Contains(out, []byte("DefaultGODEBUG=")) {
		t.Errorf("bbin/bb has old GODEBUG defaults; the generated main must carry //go:debug default=go1.NN:\n%s", out)
	}
}
