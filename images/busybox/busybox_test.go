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
	want := []string{"lvsinit", "modprobe", "lvsboxd", "lvsbox", "gosh", "ls", "cat", "ip", "dmesg", "ping", "ps", "kill"}
	if got := names(Commands); !slices.Equal(got, want) {
		t.Fatalf("Commands = %v, want %v", got, want)
	}
	if !slices.Contains(BuildTags, "goshsmall") {
		t.Fatal("gosh must be built with goshsmall (serial console)")
	}
}

func TestBuildGeneratesPinsAndBuilds(t *testing.T) {
	repo := t.TempDir()
	mkpkg(t, repo, "init/cmd/lvsinit", "main.go")
	mkpkg(t, repo, "init/cmd/modprobe", "main.go")
	mkpkg(t, repo, "appliance/cmd/lvsboxd", "main.go")
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module x\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bb")
	var calls []hostcmd.Cmd
	var pinned []byte
	run := hostcmd.Func(func(_ context.Context, c hostcmd.Cmd) ([]byte, error) {
		calls = append(calls, c)
		if len(calls) == 1 { // makebb -g: lay out the generated main
			gen := c.Args[slices.Index(c.Args, "-gen-dir")+1]
			dir := filepath.Join(gen, "src", "bb.u-root.com", "bb")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			return nil, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644)
		}
		var err error
		pinned, err = os.ReadFile(filepath.Join(c.Dir, "main.go"))
		if err != nil {
			return nil, err
		}
		return nil, os.WriteFile(out, []byte("ELF"), 0o755)
	})
	b := Builder{Run: run, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RepoDir: repo}
	res, err := b.Build(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("ran %d commands, want makebb -g then go build", len(calls))
	}
	gen := strings.Join(calls[0].Args, " ")
	for _, want := range []string{"run github.com/u-root/gobusybox/src/cmd/makebb", "-g -gen-dir", "-go-build-tags goshsmall", "./init/cmd/lvsinit", "github.com/u-root/u-root/cmds/core/kill"} {
		if !strings.Contains(gen, want) {
			t.Errorf("makebb args %q lack %q", gen, want)
		}
	}
	if strings.Contains(gen, "./appliance/cmd/lvsbox ") || strings.HasSuffix(gen, "./appliance/cmd/lvsbox") {
		t.Errorf("absent optional CLI passed to makebb: %q", gen)
	}
	if !strings.HasPrefix(string(pinned), "//go:debug default=go1.26\n") {
		t.Errorf("generated main not pinned to go1.26: %q", pinned)
	}
	build := strings.Join(calls[1].Args, " ")
	for _, want := range []string{"build", "-tags goshsmall", "-trimpath", "-buildid=", "-o " + out} {
		if !strings.Contains(build, want) {
			t.Errorf("go build args %q lack %q", build, want)
		}
	}
	for _, e := range []string{"CGO_ENABLED=0", "GOAMD64=v1", "GO111MODULE=off"} {
		if !slices.Contains(calls[1].Env, e) {
			t.Errorf("build env %v lacks %s", calls[1].Env, e)
		}
	}
	if len(res.Commands) != 11 {
		t.Errorf("commands = %v", res.Commands)
	}
}

func TestGoLanguage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "go.mod")
	for in, want := range map[string]string{"module x\ngo 1.26.0\n": "go1.26", "module x\n\ngo 1.22\n": "go1.22"} {
		if err := os.WriteFile(p, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := goLanguage(p); err != nil || got != want {
			t.Errorf("goLanguage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if err := os.WriteFile(p, []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := goLanguage(p); err == nil {
		t.Error("go.mod without a go directive accepted")
	}
}
