package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/images/board"
	"github.com/lvsbox/lvsbox/images/busybox"
	"github.com/lvsbox/lvsbox/images/initramfs"
	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
	"github.com/lvsbox/lvsbox/images/iso"
	"github.com/lvsbox/lvsbox/images/kernel"
	"github.com/lvsbox/lvsbox/images/manifest"
	"github.com/lvsbox/lvsbox/images/modules"
)

// Output file names in the output directory.
const (
	VmlinuzName   = "vmlinuz"
	InitramfsName = "initramfs.cpio.gz"
	CmdlineName   = "cmdline"
	ManifestName  = "manifest.json"
	ISOName       = "lvsbox.iso"
)

// Options configure one build.
type Options struct {
	RepoDir  string // module root (holds go.mod, board/, init/, appliance/)
	Board    string // board name: RepoDir/board/NAME
	OutDir   string // e.g. RepoDir/out/qemu-x86_64
	CacheDir string // e.g. RepoDir/out/cache (kernel packages)
	// AllowMissing builds without missing required commands (development).
	AllowMissing bool
	// ISO also writes OutDir/lvsbox.iso (grub-mkrescue, BIOS+UEFI).
	ISO bool
	Run hostcmd.Runner
	Log *slog.Logger
	Now func() time.Time
}

// Build makes the board's image in OutDir and returns its manifest.
func Build(ctx context.Context, o Options) (manifest.Manifest, error) {
	start := o.Now()
	b, err := board.Load(filepath.Join(o.RepoDir, "board", o.Board))
	if err != nil {
		return manifest.Manifest{}, err
	}
	if o.ISO {
		if err := iso.Check(); err != nil {
			return manifest.Manifest{}, err
		}
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return manifest.Manifest{}, fmt.Errorf("build: %w", err)
	}
	work, err := os.MkdirTemp(o.OutDir, ".work-")
	if err != nil {
		return manifest.Manifest{}, fmt.Errorf("build: %w", err)
	}
	defer os.RemoveAll(work)

	rev, err := gitRevision(ctx, o.Run, o.RepoDir)
	if err != nil {
		return manifest.Manifest{}, err
	}
	goVer, err := goVersion(ctx, o.Run, o.RepoDir)
	if err != nil {
		return manifest.Manifest{}, err
	}

	// Busybox first: a missing command package fails the build before any
	// download.
	bbPath := filepath.Join(work, "bb")
	bb, err := busybox.Builder{Run: o.Run, Log: o.Log, RepoDir: o.RepoDir, AllowMissing: o.AllowMissing}.Build(ctx, bbPath)
	if err != nil {
		return manifest.Manifest{}, err
	}

	k, err := kernel.Fetcher{Run: o.Run, CacheDir: o.CacheDir, Log: o.Log}.Fetch(ctx, b.Kernel)
	if err != nil {
		return manifest.Manifest{}, err
	}
	st := modules.Stager{Run: o.Run, Log: o.Log}
	plan, err := st.Resolve(ctx, k.Root, k.Release, b.Modules, b.OptionalModules)
	if err != nil {
		return manifest.Manifest{}, err
	}
	stage := filepath.Join(work, "root")
	if err := st.Stage(ctx, k.ModulesDir(), stage, k.Release, plan); err != nil {
		return manifest.Manifest{}, err
	}
	o.Log.Info("modules: staged", "load", len(plan.Modules), "optional", len(plan.Optional), "files", len(plan.Files))

	boardFile, err := b.ImageFile(plan.Modules, plan.Optional)
	if err != nil {
		return manifest.Manifest{}, err
	}
	versionFile, err := manifest.Encode(manifest.Version{
		GitRevision: rev, GoVersion: goVer, KernelVersion: k.Release, Board: b.Board,
		KernelPackage: k.Package + "=" + k.Version,
	})
	if err != nil {
		return manifest.Manifest{}, err
	}
	tree := initramfs.NewTree()
	if err := Layout(tree, Files{Busybox: bbPath, Commands: bb.Commands, Board: boardFile, Version: versionFile}); err != nil {
		return manifest.Manifest{}, err
	}
	if err := tree.AddHostDir(ModulesPrefix, filepath.Join(stage, "lib", "modules")); err != nil {
		return manifest.Manifest{}, err
	}

	m := manifest.Manifest{
		Board: b.Board,
		Kernel: manifest.Kernel{Requested: b.Kernel.Package, Package: k.Package, Version: k.Version,
			Release: k.Release, DebSHA256: k.DebSHA256},
		GoVersion: goVer, GitRevision: rev, Cmdline: b.Cmdline, Console: b.Console,
		Commands: bb.Commands, MissingCommands: bb.Missing,
		Modules: manifest.Modules{Load: plan.Modules, Optional: plan.Optional, Builtin: plan.Builtin},
	}
	for _, f := range plan.Files {
		m.Modules.Files = append(m.Modules.Files, modules.StagedPath(f))
	}
	if m.Busybox, err = fileRecord(bbPath, "bbin/bb"); err != nil {
		return manifest.Manifest{}, err
	}
	if m.Initramfs, err = writeInitramfs(tree, filepath.Join(o.OutDir, InitramfsName)); err != nil {
		return manifest.Manifest{}, err
	}
	if err := copyAtomic(k.Vmlinuz, filepath.Join(o.OutDir, VmlinuzName)); err != nil {
		return manifest.Manifest{}, err
	}
	if m.Vmlinuz, err = fileRecord(filepath.Join(o.OutDir, VmlinuzName), VmlinuzName); err != nil {
		return manifest.Manifest{}, err
	}
	if err := writeAtomic(filepath.Join(o.OutDir, CmdlineName), []byte(b.Cmdline+"\n")); err != nil {
		return manifest.Manifest{}, err
	}
	if o.ISO {
		in := iso.Input{Title: "lvsbox (" + b.Board + ")", Vmlinuz: filepath.Join(o.OutDir, VmlinuzName),
			Initramfs: filepath.Join(o.OutDir, InitramfsName), Cmdline: b.Cmdline}
		if err := iso.Make(ctx, o.Run, in, filepath.Join(o.OutDir, ISOName)); err != nil {
			return manifest.Manifest{}, err
		}
		rec, err := fileRecord(filepath.Join(o.OutDir, ISOName), ISOName)
		if err != nil {
			return manifest.Manifest{}, err
		}
		m.ISO = &rec
	}
	m.BuildSeconds = float64(o.Now().Sub(start).Milliseconds()) / 1000
	data, err := manifest.Encode(m)
	if err != nil {
		return manifest.Manifest{}, err
	}
	if err := writeAtomic(filepath.Join(o.OutDir, ManifestName), data); err != nil {
		return manifest.Manifest{}, err
	}
	return m, nil
}

// writeInitramfs writes the gzip archive through a temporary file.
func writeInitramfs(t *initramfs.Tree, dst string) (manifest.Initramfs, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".initramfs-")
	if err != nil {
		return manifest.Initramfs{}, fmt.Errorf("build: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	raw, gz, err := t.WriteGzip(io.MultiWriter(tmp, h))
	if err != nil {
		tmp.Close()
		return manifest.Initramfs{}, err
	}
	if err := tmp.Close(); err != nil {
		return manifest.Initramfs{}, fmt.Errorf("build: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return manifest.Initramfs{}, fmt.Errorf("build: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return manifest.Initramfs{}, fmt.Errorf("build: %w", err)
	}
	return manifest.Initramfs{
		File:     manifest.File{Path: filepath.Base(dst), Bytes: gz, SHA256: hex.EncodeToString(h.Sum(nil))},
		RawBytes: raw,
	}, nil
}

func fileRecord(p, name string) (manifest.File, error) {
	f, err := os.Open(p)
	if err != nil {
		return manifest.File{}, fmt.Errorf("build: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return manifest.File{}, fmt.Errorf("build: %s: %w", p, err)
	}
	return manifest.File{Path: name, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func copyAtomic(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return writeAtomic(dst, data)
}

func writeAtomic(dst string, data []byte) error {
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

// gitRevision is HEAD's commit, with "-dirty" when the work tree has
// changes (untracked files count; out/ is ignored). Outside git: "unknown".
func gitRevision(ctx context.Context, run hostcmd.Runner, repo string) (string, error) {
	out, err := run.Run(ctx, hostcmd.Cmd{Name: "git", Args: []string{"-C", repo, "rev-parse", "HEAD"}})
	if err != nil {
		return "unknown", nil
	}
	rev := strings.TrimSpace(string(out))
	st, err := run.Run(ctx, hostcmd.Cmd{Name: "git", Args: []string{"-C", repo, "status", "--porcelain"}})
	if err != nil {
		return "", fmt.Errorf("build: git status: %w", err)
	}
	if len(bytes.TrimSpace(st)) > 0 {
		rev += "-dirty"
	}
	return rev, nil
}

// goVersion is the version of the go command that builds the binary.
func goVersion(ctx context.Context, run hostcmd.Runner, repo string) (string, error) {
	out, err := run.Run(ctx, hostcmd.Cmd{Dir: repo, Name: "go", Args: []string{"env", "GOVERSION"}})
	if err != nil {
		return "", fmt.Errorf("build: go env GOVERSION: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
