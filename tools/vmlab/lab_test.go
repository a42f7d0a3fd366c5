package vmlab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	var err error
	if labsrvDir, err = TempDir(); err != nil {
		fmt.Fprintln(os.Stderr, "vmlab:", err)
		os.Exit(1)
	}
	removeBin := func() { os.RemoveAll(labsrvDir) }
	stop := TrapSignals(removeBin)
	code := m.Run()
	stop()
	CloseAll()
	removeBin()
	os.Exit(code)
}

var (
	labsrvOnce sync.Once
	labsrvDir  string
	labsrvBin  string
	labsrvErr  error
)

// labsrv builds tools/labsrv once per test binary.
func labsrv(t *testing.T) string {
	t.Helper()
	labsrvOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			labsrvErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		labsrvBin, labsrvErr = BuildTool(ctx, root, "./tools/labsrv", labsrvDir)
	})
	if labsrvErr != nil {
		t.Fatal(labsrvErr)
	}
	return labsrvBin
}

func netnsExists(name string) bool {
	_, err := os.Stat(filepath.Join(NetnsDir, name))
	return err == nil
}

// TestLabTwoHostsOnASegment builds a lab with two host namespaces on one
// segment, pings between them, serves HTTP from one to the other, and checks
// that Close removes the namespaces and stops the server.
func TestLabTwoHostsOnASegment(t *testing.T) {
	NeedRoot(t)
	NeedTools(t, "ip", "go")
	bin := labsrv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	l, err := New(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			l.Close()
		}
	})
	a, err := l.AddHost(ctx, HostConfig{Name: "a", Segment: "lan", Addrs: []string{"203.0.113.1/24"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.AddHost(ctx, HostConfig{Name: "b", Segment: "lan", Addrs: []string{"203.0.113.2/24"}, Gateway: "203.0.113.1"})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := a.Exec(ctx, bin, "ping", "-c", "2", "203.0.113.2"); err != nil {
		t.Fatalf("ping a->b: %v\n%s", err, out)
	}
	if out, err := b.Exec(ctx, bin, "ping", "-c", "1", "203.0.113.1"); err != nil {
		t.Fatalf("ping b->a: %v\n%s", err, out)
	}
	out, err := b.Exec(ctx, "ip", "route", "show", "default")
	if err != nil || !strings.Contains(string(out), "via 203.0.113.1") {
		t.Fatalf("default route in b: %q %v", out, err)
	}

	srv, err := b.Start(bin, "serve", "-name", "bee", "-listen", "203.0.113.2:8080")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Out.Wait(ctx, regexp.MustCompile(`listening`)); err != nil {
		t.Fatal(err)
	}
	out, err = a.Exec(ctx, bin, "get", "-n", "3", "http://203.0.113.2:8080/")
	if err != nil || !strings.HasSuffix(string(out), "ok bee\nsummary ok=3 err=0\n") {
		t.Fatalf("get: %v\n%s", err, out)
	}
	names := []string{l.Name, a.NS, b.NS}
	for _, n := range names {
		if !netnsExists(n) {
			t.Fatalf("namespace %s missing", n)
		}
	}
	closed = true
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, n := range names {
		if netnsExists(n) {
			t.Errorf("namespace %s left after Close", n)
		}
	}
	if err := srv.Wait(ctx); err != nil && !strings.Contains(err.Error(), "signal") {
		t.Logf("server exit: %v", err)
	}
	if _, err := os.Stat(l.Dir); !os.IsNotExist(err) {
		t.Errorf("lab dir %s left after Close (%v)", l.Dir, err)
	}
}

// TestSweepRemovesNamespacesOfDeadOwners makes a namespace named as if a
// dead process had made it, and one of this process, and sweeps.
func TestSweepRemovesNamespacesOfDeadOwners(t *testing.T) {
	NeedRoot(t)
	NeedTools(t, "ip", "true")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	dead := c.Process.Pid
	if pidAlive(dead) {
		t.Skipf("pid %d was reused already", dead)
	}
	stale := Prefix + "-" + strconv.Itoa(dead) + "-1-x"
	mine := Prefix + "-" + strconv.Itoa(os.Getpid()) + "-999"
	for _, n := range []string{stale, mine} {
		if out, err := exec.Command("ip", "netns", "add", n).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v %s", n, err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", n).Run() })
	}
	staleDir := filepath.Join(os.TempDir(), Prefix+"-"+strconv.Itoa(dead)+"-1-42")
	if err := os.MkdirAll(filepath.Join(staleDir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(staleDir) })
	removed, err := Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(staleDir); !os.IsNotExist(err) {
		t.Errorf("stale lab dir %s left after sweep (%v)", staleDir, err)
	}
	if !contains(removed, stale) || contains(removed, mine) {
		t.Fatalf("swept %v; want %s swept and %s kept", removed, stale, mine)
	}
	if netnsExists(stale) || !netnsExists(mine) {
		t.Fatalf("after sweep: stale exists=%v, mine exists=%v", netnsExists(stale), netnsExists(mine))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
