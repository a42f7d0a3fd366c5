package checker

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "check.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScript(t *testing.T) {
	server := netip.MustParseAddrPort("192.0.2.11:8080")
	cases := []struct {
		name    string
		body    string
		args    []string
		dynamic bool
		ok      bool
		text    string
		weight  int
		hasW    bool
	}{
		{name: "exit 0", body: "exit 0", ok: true, text: "script exit 0 in "},
		{name: "exit 1", body: "echo checking; echo 'backend says no' >&2; exit 1", text: "script exit 1: backend says no"},
		{name: "env and args", body: `[ "$LVSBOX_CHECK_ADDRESS:$LVSBOX_CHECK_PORT" = "192.0.2.11:8080" ] && [ "$1" = "--fast" ] || exit 1`, args: []string{"--fast"}, ok: true, text: "script exit 0"},
		{name: "exit 7 without misc_dynamic", body: "exit 7", text: "script exit 7"},
		{name: "misc_dynamic 7", body: "exit 7", dynamic: true, ok: true, text: "script exit 7 (weight 5)", weight: 5, hasW: true},
		{name: "misc_dynamic 2", body: "exit 2", dynamic: true, ok: true, text: "(weight 0)", weight: 0, hasW: true},
		{name: "misc_dynamic 1", body: "exit 1", dynamic: true, text: "script exit 1"},
		{name: "signal", body: "kill -TERM $$", text: "script killed by signal 15"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := health.Spec{Type: health.TypeScript, Script: &health.ScriptSpec{Path: script(t, c.body), Args: c.args, MiscDynamic: c.dynamic}}
			r := run(t, spec, server)
			want(t, r, c.ok, c.text)
			if r.HasWeight != c.hasW || r.Weight != c.weight {
				t.Errorf("weight %d (set %v), want %d (set %v)", r.Weight, r.HasWeight, c.weight, c.hasW)
			}
		})
	}
}

func TestScriptMissing(t *testing.T) {
	r := run(t, health.Spec{Type: health.TypeScript, Script: &health.ScriptSpec{Path: "/nonexistent/check"}}, netip.MustParseAddrPort("192.0.2.1:80"))
	want(t, r, false, "script: ", "no such file or directory")
}

// TestScriptTimeoutKillsGroup: a script that starts a background child and hangs
// is killed with its whole process group when the timeout expires.
func TestScriptTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	body := "sleep 30 &\necho $! > " + pidFile + "\nsleep 30"
	spec := health.Spec{Type: health.TypeScript, Timeout: 5 * time.Second, Script: &health.ScriptSpec{Path: script(t, body), Timeout: 300 * time.Millisecond}}
	start := time.Now()
	r := run(t, spec, netip.MustParseAddrPort("192.0.2.1:80"))
	want(t, r, false)
	if r.Text != "timeout after 300ms (process group killed)" {
		t.Errorf("text %q", r.Text)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("check took %v with a 300ms script timeout", d)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// The background child is gone (killed; reaped by init or a zombie at most).
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("background child %d of the script survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
