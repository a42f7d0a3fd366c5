package vmtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/vmlab"
)

// Timeouts are generous: guests run under TCG on a shared machine.
const (
	bootTimeout = 3 * time.Minute
	stepTimeout = time.Minute
)

// readyRE is the daemon's readiness line (docs/architecture.md).
var readyRE = regexp.MustCompile(`lvsbox: ready`)

func TestMain(m *testing.M) {
	var err error
	if toolDir, err = vmlab.TempDir(); err != nil {
		fmt.Fprintln(os.Stderr, "vmtest:", err)
		os.Exit(1)
	}
	removeTools := func() { os.RemoveAll(toolDir) }
	stop := vmlab.TrapSignals(removeTools)
	if os.Geteuid() == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if removed, err := vmlab.Sweep(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "vmtest: sweep:", err)
		} else if len(removed) > 0 {
			fmt.Fprintln(os.Stderr, "vmtest: swept stale lab namespaces:", removed)
		}
		cancel()
	}
	code := m.Run()
	stop()
	if err := vmlab.CloseAll(); err != nil {
		fmt.Fprintln(os.Stderr, "vmtest:", err)
	}
	removeTools()
	os.Exit(code)
}

var (
	toolOnce sync.Once
	toolDir  string // made by TestMain, removed at exit
	labsrv   string
	toolErr  error
)

// labsrvBin builds tools/labsrv once per test binary.
func labsrvBin(t *testing.T) string {
	t.Helper()
	toolOnce.Do(func() {
		root, err := vmlab.RepoRoot()
		if err != nil {
			toolErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		labsrv, toolErr = vmlab.BuildTool(ctx, root, "./tools/labsrv", toolDir)
	})
	if toolErr != nil {
		t.Fatal(toolErr)
	}
	return labsrv
}

// boot starts a guest and waits for the daemon's ready line and for the
// rescue shell to answer.
func boot(t *testing.T, l *vmlab.Lab, cfg vmlab.GuestConfig) *vmlab.Guest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	start := time.Now()
	g, err := l.StartGuest(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.WaitConsole(ctx, readyRE); err != nil {
		t.Fatalf("boot: %v", err)
	}
	ready := time.Since(start)
	if err := g.Shell.WaitReady(ctx, 2*time.Second); err != nil {
		t.Fatalf("boot: rescue shell on the console: %v", err)
	}
	t.Logf("guest %s: %q after %v, shell answers after %v", g.Name, readyRE, ready.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return g
}

// run runs a command in the guest's rescue shell and fails the test on error.
func run(t *testing.T, g *vmlab.Guest, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	out, err := g.Run(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
