package vmlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/testenv"
)

// Environment variables read by the test helpers.
const (
	// EnvRequireAll=1 turns every skip of a root/QEMU/image test into a failure.
	EnvRequireAll = testenv.EnvRequireAll
	// EnvKeepLab=1 leaves labs running after the test (see Config.Keep).
	EnvKeepLab = "LVSBOX_KEEP_LAB"
	// EnvKeepLogs=1 saves lab logs of passing tests too.
	EnvKeepLogs = "LVSBOX_KEEP_LOGS"
)

// RequireAll reports whether LVSBOX_REQUIRE_ALL=1 is set (testenv.RequireAll).
func RequireAll() bool { return testenv.RequireAll() }

// KeepLab reports whether LVSBOX_KEEP_LAB=1 is set.
func KeepLab() bool { return os.Getenv(EnvKeepLab) == "1" }

// KeepLogs reports whether LVSBOX_KEEP_LOGS=1 is set.
func KeepLogs() bool { return os.Getenv(EnvKeepLogs) == "1" }

// Need is testenv.Need, re-exported for lab users.
var Need = testenv.Need

// NeedRoot is testenv.NeedRoot, re-exported for lab users.
var NeedRoot = testenv.NeedRoot

// NeedTools is testenv.NeedTools, re-exported for lab users.
var NeedTools = testenv.NeedTools

// NeedImage needs root, ip, QEMU and the built image of DefaultBoard, and
// returns the image.
func NeedImage(tb testing.TB) Image {
	tb.Helper()
	NeedRoot(tb)
	NeedTools(tb, "ip", "qemu-system-x86_64")
	root, err := RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	img, err := FindImage(root, DefaultBoard)
	if errors.Is(err, ErrNoImage) {
		Need(tb, false, "%v (build it with the image build, e.g. make image)", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// NewTestLab creates a lab that is closed when tb ends. If tb failed (or
// LVSBOX_KEEP_LOGS=1), the guests and processes are stopped first and the
// lab's logs are copied to out/vmtest-logs/<test name>/ (the path is
// logged). LVSBOX_KEEP_LAB=1 keeps the lab running instead of closing it.
func NewTestLab(tb testing.TB) *Lab {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := New(ctx, Config{Keep: KeepLab()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if failed := tb.Failed(); failed || KeepLogs() {
			l.stopAll()
			what := "the failed test"
			if !failed {
				what = "the test"
			}
			if dir, err := l.SaveLogs(tb.Name()); err != nil {
				tb.Logf("vmlab: saving logs: %v", err)
			} else {
				tb.Logf("vmlab: logs of %s are in %s", what, dir)
			}
		}
		if err := l.Close(); err != nil {
			tb.Errorf("vmlab: close lab: %v", err)
		}
	})
	return l
}

// stopAll stops guests and processes but keeps namespaces and files. It is
// a no-op for kept labs.
func (l *Lab) stopAll() {
	if l.keep {
		return
	}
	for _, g := range l.Guests() {
		_ = g.stop(5 * time.Second)
	}
	for _, h := range l.Hosts() {
		_ = h.stopAll(3 * time.Second)
	}
}

var unsafePathChars = regexp.MustCompile(`[^A-Za-z0-9_.=+-]+`)

// LogDir is out/vmtest-logs/<test name> under the repository root; each
// subtest level becomes a directory.
func LogDir(testName string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	parts := []string{root, "out", "vmtest-logs"}
	for _, p := range strings.Split(testName, "/") {
		p = unsafePathChars.ReplaceAllString(p, "_")
		if p == "" || p == "." || p == ".." {
			p = "_"
		}
		parts = append(parts, p)
	}
	return filepath.Join(parts...), nil
}

// SaveLogs copies the lab's log files (consoles, QEMU output, processes,
// commands run) to LogDir(testName), replacing what an earlier run left
// there, and returns that directory.
func (l *Lab) SaveLogs(testName string) (string, error) {
	dst, err := LogDir(testName)
	if err != nil {
		return "", err
	}
	if err := os.RemoveAll(dst); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	files, err := filepath.Glob(filepath.Join(l.Dir, "*.log"))
	if err != nil {
		return "", err
	}
	seeds, _ := filepath.Glob(filepath.Join(l.Dir, "*.seed.json"))
	var errs []error
	for _, f := range append(files, seeds...) {
		errs = append(errs, copyFile(f, filepath.Join(dst, filepath.Base(f))))
	}
	return dst, errors.Join(errs...)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TrapSignals closes every open lab, runs cleanups and exits with status
// 130 when the process gets SIGINT or SIGTERM (t.Cleanup does not run then).
// Call it from TestMain; stop undoes it.
func TrapSignals(cleanups ...func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			fmt.Fprintf(os.Stderr, "vmlab: %v: closing labs\n", sig)
			if err := CloseAll(); err != nil {
				fmt.Fprintf(os.Stderr, "vmlab: %v\n", err)
			}
			for _, f := range cleanups {
				f()
			}
			os.Exit(130)
		case <-quit:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(quit)
	}
}

// TempDir makes a directory for this process's helper files (built tools)
// named like a lab (Prefix-<pid>-0-<random>), so Sweep removes it if the
// process dies without removing it.
func TempDir() (string, error) {
	return os.MkdirTemp("", fmt.Sprintf("%s-%d-0-", Prefix, os.Getpid()))
}

// BuildTool builds Go package pkg (a path relative to root, e.g.
// "./tools/labsrv") into dir and returns the binary's path.
func BuildTool(ctx context.Context, root, pkg, dir string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("vmlab: go build %s: %w: %s", pkg, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}
