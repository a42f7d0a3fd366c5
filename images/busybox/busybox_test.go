package busybox

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
)

func mkpkg(t *testing.T, repo, dir, file string) {
	t.Helper()
	p := filepath.Join(repo, dir)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, file), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

var testCmds = []Command{
	{Pkg: "./init/cmd/lvsinit", Local: true, Owner: "init/"},
	{Pkg: "./appliance/cmd/lvsboxd", Local: true, Owner: "appliance/"},
	{Pkg: "./appliance/cmd/lvsbox", Local: true, Optional: true},
	{Pkg: "github.com/u-root/u-root/cmds/core/gosh"},
}

func names(cs []Command) []string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name())
	}
	return n
}

func TestSelectFailsClearlyOnMissingRequired(t *testing.T) {
	repo := t.TempDir()
	mkpkg(t, repo, "appliance/cmd/lvsboxd", "main.go")
	mkpkg(t, repo, "init/cmd/lvsinit", "main_test.go") // tests only: not a command
	_, _, err := Select(repo, testCmds, false)
	if err == nil || !strings.Contains(err.Error(), "./init/cmd/lvsinit is missing") || !strings.Contains(err.Error(), "init/") {
		t.Fatalf("Select = %v, want an error naming ./init/cmd/lvsinit and its owner", err)
	}
}

func TestSelectAllowMissing(t *testing.T) {
	repo := t.TempDir()
	mkpkg(t, repo, "appliance/cmd/lvsboxd", "main.go")
	have, missing, err := Select(repo, testCmds, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"lvsboxd", "gosh"}; !slices.Equal(names(have), want) {
		t.Errorf("have = %v, want %v", names(have), want)
	}
	if want := []string{"./init/cmd/lvsinit"}; !slices.Equal(missing, want) {
		t.Errorf("missing = %v, want %v (the optional CLI is not reported)", missing, want)
	}
}

func TestSelectAllPresent(t *testing.T) {
	repo := t.TempDir()
	mkpkg(t, repo, "init/cmd/lvsinit", "main.go")
	mkpkg(t, repo, "appliance/cmd/lvsboxd", "main.go")
	mkpkg(t, repo, "appliance/cmd/lvsbox", "main.go")
	have, missing, err := Select(repo, testCmds, false)
	if err != nil || len(missing) != 0 {
		t.Fatalf("Select = %v, %v", missing, err)
	}
	if want := []string{"lvsinit", "lvsboxd", "lvsbox", "gosh"}; !slices.Equal(names(have), want) {
		t.Errorf("have = %v, want %v", names(have), want)
	}
}

func TestSelectRejectsDuplicateNames(t *testing.T) {
	_, _, err := Select(t.TempDir(), []Command{{Pkg: "a/ls"}, {Pkg: "b/ls"}}, false)
	if err == nil {
		t.Fatal("Select accepted two commands named ls")
	}
}

func TestCommandSetMatchesContract(t *testing.T) {
	want := []string{"lvsinit", "lvsboxd", "lvsbox", "gosh", "ls", "cat", "ip", "dmesg", "ping", "ps", "kill"}
	if got := names(Commands); !slices.Equal(got, want) {
		t.Fatalf("Commands = %v, want %v", got, want)
	}
	if !slices.Contains(BuildTags, "goshsmall") {
		t.Fatal("gosh must be built with goshsmall (serial console)")
	}
}

func TestBuildRunsMakebb(t *testing.T) {
	repo := t.TempDir()
	mkpkg(t, repo, "init/cmd/lvsinit", "main.go")
	mkpkg(t, repo, "appliance/cmd/lvsboxd", "main.go")
	out := filepath.Join(t.TempDir(), "bb")
	var got hostcmd.Cmd
	run := hostcmd.Func(func(_ context.Context, c hostcmd.Cmd) ([]byte, error) {
		got = c
		return nil, os.WriteFile(out, []byte("ELF"), 0o755)
	})
	b := Builder{Run: run, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RepoDir: repo}
	res, err := b.Build(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Dir != repo || got.Name != "go" {
		t.Fatalf("ran %q in %q", got, got.Dir)
	}
	args := strings.Join(got.Args, " ")
	for _, want := range []string{"run github.com/u-root/gobusybox/src/cmd/makebb", "-o " + out, "-go-build-tags goshsmall", "./init/cmd/lvsinit", "github.com/u-root/u-root/cmds/core/kill"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
	if strings.Contains(args, "./appliance/cmd/lvsbox ") || strings.HasSuffix(args, "./appliance/cmd/lvsbox") {
		t.Errorf("absent optional CLI passed to makebb: %q", args)
	}
	for _, e := range []string{"CGO_ENABLED=0", "GOAMD64=v1"} {
		if !slices.Contains(got.Env, e) {
			t.Errorf("env %v lacks %s", got.Env, e)
		}
	}
	if len(res.Commands) != 10 {
		t.Errorf("commands = %v", res.Commands)
	}
}
