package kernel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/lvsbox/lvsbox/images/board"
	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
)

// Kernel is a fetched and unpacked kernel package.
type Kernel struct {
	Requested string `json:"requested"` // package the board asked for
	Package   string `json:"package"`   // concrete package, e.g. linux-image-6.1.0-56-amd64
	Version   string `json:"version"`   // exact Debian version, e.g. 6.1.192-2
	Release   string `json:"release"`   // uname -r, e.g. 6.1.0-56-amd64
	DebSHA256 string `json:"deb_sha256"`
	// Root is the unpacked package; modules live in Root/lib/modules/Release.
	Root string `json:"-"`
	// Vmlinuz is the kernel image inside Root.
	Vmlinuz string `json:"-"`
}

// ModulesDir is Root/lib/modules/Release.
func (k Kernel) ModulesDir() string {
	return filepath.Join(k.Root, "lib", "modules", k.Release)
}

// Fetcher resolves, downloads and unpacks kernel packages into CacheDir.
type Fetcher struct {
	Run      hostcmd.Runner
	CacheDir string
	Log      *slog.Logger
}

const completeMarker = ".lvsbox-kernel.json"

// Fetch returns the unpacked kernel for req, reusing the cache when the exact
// package version is already there.
func (f Fetcher) Fetch(ctx context.Context, req board.Kernel) (Kernel, error) {
	pkg, ver, sha, err := f.resolve(ctx, req)
	if err != nil {
		return Kernel{}, err
	}
	dir := filepath.Join(f.CacheDir, "kernel-"+pkg+"_"+ver)
	if k, err := readMarker(dir); err == nil {
		k.Requested = req.Package
		f.Log.Info("kernel: cached", "package", k.Package, "version", k.Version, "release", k.Release)
		return k, nil
	}
	deb, err := f.download(ctx, pkg, ver, sha)
	if err != nil {
		return Kernel{}, err
	}
	if err := f.unpack(ctx, deb, dir, Kernel{Requested: req.Package, Package: pkg, Version: ver}); err != nil {
		return Kernel{}, err
	}
	k, err := readMarker(dir)
	if err != nil {
		return Kernel{}, err
	}
	k.Requested = req.Package
	return k, nil
}

// resolve turns the request into a concrete package and exact version. A
// pinned concrete package whose unpacked tree is cached needs no apt at all.
func (f Fetcher) resolve(ctx context.Context, req board.Kernel) (pkg, ver, sha string, err error) {
	if req.Version != "" {
		if k, err := readMarker(filepath.Join(f.CacheDir, "kernel-"+req.Package+"_"+req.Version)); err == nil {
			return k.Package, k.Version, k.DebSHA256, nil
		}
	}
	pkg, ver = req.Package, req.Version
	for range 4 {
		s, err := f.show(ctx, pkg, ver)
		if err != nil {
			return "", "", "", err
		}
		dep, depVer, ok := kernelDependency(s)
		if !ok {
			return s["Package"], s["Version"], s["SHA256"], nil
		}
		f.Log.Info("kernel: metapackage resolved", "from", s["Package"]+"="+s["Version"], "to", dep, "version", depVer)
		pkg, ver = dep, depVer
	}
	return "", "", "", fmt.Errorf("kernel: resolve %s: too many metapackage levels", req.Package)
}

// show runs `apt-cache show`; when apt knows no such package it runs
// `apt-get update` once and tries again.
func (f Fetcher) show(ctx context.Context, pkg, ver string) (stanza, error) {
	spec := pkg
	if ver != "" {
		spec += "=" + ver
	}
	c := hostcmd.Cmd{Name: "apt-cache", Args: []string{"show", "--no-all-versions", spec}}
	out, err := f.Run.Run(ctx, c)
	if err != nil {
		f.Log.Info("kernel: apt-cache does not know the package; running apt-get update", "package", spec)
		if uerr := f.aptUpdate(ctx); uerr != nil {
			return nil, fmt.Errorf("kernel: resolve %s: %w (after: %w)", spec, uerr, err)
		}
		if out, err = f.Run.Run(ctx, c); err != nil {
			return nil, fmt.Errorf("kernel: resolve %s: %w", spec, err)
		}
	}
	s, err := parseStanza(out)
	if err != nil {
		return nil, fmt.Errorf("kernel: resolve %s: %w", spec, err)
	}
	return s, nil
}

func (f Fetcher) aptUpdate(ctx context.Context) error {
	_, err := f.Run.Run(ctx, hostcmd.Cmd{Name: "apt-get", Args: []string{"-qq", "update"}})
	return err
}

// download puts PKG_VER_amd64.deb into CACHE/debs (unless it is there with
// the expected checksum) and returns its path.
func (f Fetcher) download(ctx context.Context, pkg, ver, sha string) (string, error) {
	debs := filepath.Join(f.CacheDir, "debs")
	dst := filepath.Join(debs, debFileName(pkg, ver))
	if got, err := fileSHA256(dst); err == nil && (sha == "" || got == sha) {
		return dst, nil
	}
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", fmt.Errorf("kernel: %w", err)
	}
	tmp, err := os.MkdirTemp(debs, ".dl-")
	if err != nil {
		return "", fmt.Errorf("kernel: %w", err)
	}
	defer os.RemoveAll(tmp)
	f.Log.Info("kernel: downloading", "package", pkg, "version", ver)
	c := hostcmd.Cmd{Dir: tmp, Name: "apt-get", Args: []string{
		"-qq", "-o", "APT::Sandbox::User=root", "download", pkg + "=" + ver}}
	if _, err := f.Run.Run(ctx, c); err != nil {
		if uerr := f.aptUpdate(ctx); uerr != nil {
			return "", fmt.Errorf("kernel: download %s=%s: %w (after: %w)", pkg, ver, uerr, err)
		}
		if _, err := f.Run.Run(ctx, c); err != nil {
			return "", fmt.Errorf("kernel: download %s=%s: %w", pkg, ver, err)
		}
	}
	got := filepath.Join(tmp, debFileName(pkg, ver))
	sum, err := fileSHA256(got)
	if err != nil {
		return "", fmt.Errorf("kernel: download %s=%s: %w", pkg, ver, err)
	}
	if sha != "" && sum != sha {
		return "", fmt.Errorf("kernel: download %s=%s: sha256 %s, apt says %s", pkg, ver, sum, sha)
	}
	if err := os.Rename(got, dst); err != nil {
		return "", fmt.Errorf("kernel: %w", err)
	}
	return dst, nil
}

// unpack extracts deb into dir and runs depmod on the unpacked modules. The
// work happens in a temporary sibling that gets the completion marker and is
// then renamed, so dir appears complete or not at all (a concurrent build
// that wins the race is fine).
func (f Fetcher) unpack(ctx context.Context, deb, dir string, k Kernel) error {
	tmp, err := os.MkdirTemp(f.CacheDir, ".unpack-")
	if err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	defer os.RemoveAll(tmp)
	f.Log.Info("kernel: unpacking", "deb", filepath.Base(deb))
	if _, err := f.Run.Run(ctx, hostcmd.Cmd{Name: "dpkg-deb", Args: []string{"-x", deb, tmp}}); err != nil {
		return fmt.Errorf("kernel: unpack: %w", err)
	}
	release, err := findRelease(tmp)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(tmp, "boot", "vmlinuz-"+release)); err != nil {
		return fmt.Errorf("kernel: unpack %s: %w", filepath.Base(deb), err)
	}
	if _, err := f.Run.Run(ctx, hostcmd.Cmd{Name: "depmod", Args: []string{"-C", "/dev/null", "-b", tmp, release}}); err != nil {
		return fmt.Errorf("kernel: depmod on unpacked tree: %w", err)
	}
	if k.DebSHA256, err = fileSHA256(deb); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	k.Release = release
	if err := writeMarker(tmp, k); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, merr := readMarker(dir); merr == nil {
			return nil // another build finished first
		}
		// A leftover without a marker: replace it.
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("kernel: %w", err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("kernel: %w", err)
		}
	}
	return nil
}

// findRelease returns the only directory name under ROOT/lib/modules.
func findRelease(root string) (string, error) {
	ents, err := os.ReadDir(filepath.Join(root, "lib", "modules"))
	if err != nil {
		return "", fmt.Errorf("kernel: package has no modules: %w", err)
	}
	var rel []string
	for _, e := range ents {
		if e.IsDir() {
			rel = append(rel, e.Name())
		}
	}
	if len(rel) != 1 {
		return "", fmt.Errorf("kernel: expected one release under lib/modules, found %q", rel)
	}
	return rel[0], nil
}

func writeMarker(dir string, k Kernel) error {
	data, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, completeMarker), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	return nil
}

// readMarker loads a complete cache entry; a missing or partial one is an
// error.
func readMarker(dir string) (Kernel, error) {
	data, err := os.ReadFile(filepath.Join(dir, completeMarker))
	if err != nil {
		return Kernel{}, err
	}
	var k Kernel
	if err := json.Unmarshal(data, &k); err != nil {
		return Kernel{}, fmt.Errorf("kernel: cache marker %s: %w", dir, err)
	}
	if k.Package == "" || k.Version == "" || k.Release == "" {
		return Kernel{}, fmt.Errorf("kernel: cache marker %s: incomplete", dir)
	}
	k.Root = dir
	k.Vmlinuz = filepath.Join(dir, "boot", "vmlinuz-"+k.Release)
	for _, p := range []string{k.Vmlinuz, filepath.Join(k.ModulesDir(), "modules.dep")} {
		if _, err := os.Stat(p); err != nil {
			return Kernel{}, fmt.Errorf("kernel: cache %s: %w", dir, err)
		}
	}
	return k, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
