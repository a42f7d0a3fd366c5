package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The gate must skip without LVSBOX_REQUIRE_ALL and fail with it: run a child
// test process both ways and read its verdict.
func TestNeedSkipsOrFails(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Need(t, false, "missing thing")
		return
	}
	for _, c := range []struct {
		env  string
		want string
	}{{"", "--- SKIP"}, {EnvRequireAll + "=1", "--- FAIL"}} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNeedSkipsOrFails$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", EnvRequireAll+"=")
		if c.env != "" {
			cmd.Env = append(cmd.Env, c.env)
		}
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), c.want) || !strings.Contains(string(out), "missing thing") {
			t.Errorf("with %q: want %s naming the reason, got:\n%s", c.env, c.want, out)
		}
	}
}

func TestNeedPassesWhenOK(t *testing.T) {
	Need(t, true, "never shown")
	NeedTools(t, "go")
}

func TestNetnsIsMadeAndRemoved(t *testing.T) {
	NeedRoot(t)
	var name string
	t.Run("inner", func(t *testing.T) {
		name, _ = Netns(t, "lvsbox-testenv")
		if out := IP(t, "-n", name, "link", "show", "lo"); !strings.Contains(out, "UP") {
			t.Fatalf("lo not up in %s: %s", name, out)
		}
	})
	if out := IP(t, "netns", "list"); strings.Contains(out, name) {
		t.Fatalf("namespace %s left behind:\n%s", name, out)
	}
}
