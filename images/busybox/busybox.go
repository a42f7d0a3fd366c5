package busybox

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
)

// Command is one command linked into the busybox binary. Its name (the link
// /bbin/NAME) is the last element of Pkg.
type Command struct {
	Pkg string // "./init/cmd/lvsinit" (in this repository) or a Go import path
	// Local commands live in this repository; a missing local command is an
	// error unless Optional.
	Local    bool
	Optional bool
	Owner    string // who provides a local command, for the error message
}

// Name is the command's name in /bbin.
func (c Command) Name() string { return path.Base(c.Pkg) }

// Commands is the image's command set (docs/architecture.md, "PID 1",
// "daemon", "rescue tools").
var Commands = []Command{
	{Pkg: "./init/cmd/lvsinit", Local: true, Owner: "init/ (PID 1)"},
	{Pkg: "./init/cmd/modprobe", Local: true, Owner: "init/ (modprobe for request_module)"},
	{Pkg: "./appliance/cmd/lvsboxd", Local: true, Owner: "appliance/ (daemon)"},
	{Pkg: "./appliance/cmd/lvsbox", Local: true, Optional: true, Owner: "appliance/ (CLI)"},
	{Pkg: "github.com/u-root/u-root/cmds/core/gosh"},
	{Pkg: "github.com/u-root/u-root/cmds/core/ls"},
	{Pkg: "github.com/u-root/u-root/cmds/core/cat"},
	{Pkg: "github.com/u-root/u-root/cmds/core/ip"},
	{Pkg: "github.com/u-root/u-root/cmds/core/dmesg"},
	{Pkg: "github.com/u-root/u-root/cmds/core/ping"},
	{Pkg: "github.com/u-root/u-root/cmds/core/ps"},
	{Pkg: "github.com/u-root/u-root/cmds/core/kill"},
}

// BuildTags: goshsmall gives gosh a line editor that does not wait for
// terminal query replies a serial console never sends. Only gosh uses it.
var BuildTags = []string{"goshsmall"}

// Env is the Go environment of the build.
var Env = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOAMD64=v1"}

// Builder runs makebb in RepoDir.
type Builder struct {
	Run     hostcmd.Runner
	Log     *slog.Logger
	RepoDir string
	// AllowMissing drops missing required local commands instead of
	// failing (development only; the image will not boot without lvsinit).
	AllowMissing bool
}

// Result describes the built binary.
type Result struct {
	Commands []string // command names, in Commands order
	Missing  []string // local packages that were absent (AllowMissing)
}

// Select returns the commands whose packages exist and the missing ones.
// A missing required local command is an error unless allowMissing.
func Select(repoDir string, cmds []Command, allowMissing bool) (have []Command, missing []string, err error) {
	names := map[string]bool{}
	for _, c := range cmds {
		if names[c.Name()] {
			return nil, nil, fmt.Errorf("busybox: two commands named %q", c.Name())
		}
		names[c.Name()] = true
		if c.Local {
			ok, err := hasGoFiles(filepath.Join(repoDir, filepath.FromSlash(c.Pkg)))
			if err != nil {
				return nil, nil, fmt.Errorf("busybox: %w", err)
			}
			if !ok {
				if c.Optional {
					continue
				}
				if !allowMissing {
					return nil, nil, fmt.Errorf("busybox: required command package %s is missing (owner: %s); it must exist and build before the image can be made", c.Pkg, c.Owner)
				}
				missing = append(missing, c.Pkg)
				continue
			}
		}
		have = append(have, c)
	}
	return have, missing, nil
}

// Build writes the busybox binary to out.
//
// makebb only generates the source (-g): it lays the commands out as a GOPATH
// tree, and a GOPATH-mode build would get Go 1.20's GODEBUG defaults
// (httpmuxgo121=1, asynctimerchan=1, tls10server=1, ...), so the appliance
// would not behave like the same code built as a module. Build then pins the
// generated main to this module's language version with a //go:debug
// directive and compiles it with makebb's reproducible flags.
func (b Builder) Build(ctx context.Context, out string) (Result, error) {
	have, missing, err := Select(b.RepoDir, Commands, b.AllowMissing)
	if err != nil {
		return Result{}, err
	}
	for _, m := range missing {
		b.Log.Warn("busybox: MISSING required command, image will be incomplete", "package", m)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return Result{}, fmt.Errorf("busybox: %w", err)
	}
	lang, err := goLanguage(filepath.Join(b.RepoDir, "go.mod"))
	if err != nil {
		return Result{}, err
	}
	gen, err := os.MkdirTemp("", "lvsbox-bb-")
	if err != nil {
		return Result{}, fmt.Errorf("busybox: %w", err)
	}
	defer os.RemoveAll(gen)
	gen = filepath.Join(gen, "gen") // makebb creates it
	args := []string{"run", "github.com/u-root/gobusybox/src/cmd/makebb", "-g", "-gen-dir", gen,
		"-go-build-tags", strings.Join(BuildTags, ",")} // tags pick the files makebb rewrites
	var res Result
	for _, c := range have {
		args = append(args, c.Pkg)
		res.Commands = append(res.Commands, c.Name())
	}
	res.Missing = missing
	b.Log.Info("busybox: building", "commands", strings.Join(res.Commands, " "), "go", lang)
	if _, err := b.Run.Run(ctx, hostcmd.Cmd{Dir: b.RepoDir, Env: Env, Name: "go", Args: args}); err != nil {
		return Result{}, fmt.Errorf("busybox: makebb: %w", err)
	}
	bbDir := filepath.Join(gen, "src", "bb.u-root.com", "bb")
	if err := pinLanguage(filepath.Join(bbDir, "main.go"), lang); err != nil {
		return Result{}, err
	}
	env := append(slices.Clone(Env), "GO111MODULE=off", "GOPATH="+gen, "GOFLAGS=")
	build := hostcmd.Cmd{Dir: bbDir, Env: env, Name: "go", Args: []string{"build",
		"-tags", strings.Join(BuildTags, ","), "-gcflags=all=-l", "-ldflags", "-s -w -buildid=",
		"-trimpath", "-o", abs, "."}}
	if _, err := b.Run.Run(ctx, build); err != nil {
		return Result{}, fmt.Errorf("busybox: go build: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return Result{}, fmt.Errorf("busybox: build left no binary: %w", err)
	}
	return res, nil
}

// goLanguage reads the language version ("go1.26") from a go.mod file.
func goLanguage(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("busybox: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "go" {
			parts := strings.SplitN(f[1], ".", 3)
			if len(parts) < 2 {
				break
			}
			return "go" + parts[0] + "." + parts[1], nil
		}
	}
	return "", fmt.Errorf("busybox: %s has no go directive", gomod)
}

// pinLanguage puts "//go:debug default=LANG" at the top of the generated
// busybox main, so GODEBUG defaults follow the module's language version.
func pinLanguage(mainGo, lang string) error {
	src, err := os.ReadFile(mainGo)
	if err != nil {
		return fmt.Errorf("busybox: generated main: %w", err)
	}
	out := append([]byte("//go:debug default="+lang+"\n\n"), src...)
	if err := os.WriteFile(mainGo, out, 0o644); err != nil {
		return fmt.Errorf("busybox: generated main: %w", err)
	}
	return nil
}

// hasGoFiles reports whether dir holds a non-test .go file.
func hasGoFiles(dir string) (bool, error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true, nil
		}
	}
	return false, nil
}
