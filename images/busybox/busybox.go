package busybox

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
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
	args := []string{"run", "github.com/u-root/gobusybox/src/cmd/makebb",
		"-o", abs, "-go-build-tags", strings.Join(BuildTags, ",")}
	var res Result
	for _, c := range have {
		args = append(args, c.Pkg)
		res.Commands = append(res.Commands, c.Name())
	}
	res.Missing = missing
	b.Log.Info("busybox: building", "commands", strings.Join(res.Commands, " "))
	if _, err := b.Run.Run(ctx, hostcmd.Cmd{Dir: b.RepoDir, Env: Env, Name: "go", Args: args}); err != nil {
		return Result{}, fmt.Errorf("busybox: makebb: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return Result{}, fmt.Errorf("busybox: makebb left no binary: %w", err)
	}
	return res, nil
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
