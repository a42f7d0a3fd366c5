package vmtest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/tools/vmlab"
)

// procModulesLine matches a /proc/modules line: name size refcount deps state.
var procModulesLine = regexp.MustCompile(`(?m)^([a-z0-9_]+) [0-9]+ [0-9]+ \S+ (Live|Loading|Unloading)`)

// loadedModules parses `cat /proc/modules` output (ignoring interleaved log
// lines).
func loadedModules(out string) map[string]bool {
	mods := map[string]bool{}
	for _, m := range procModulesLine.FindAllStringSubmatch(out, -1) {
		mods[m[1]] = true
	}
	return mods
}

// builtinModules parses modules.builtin ("kernel/net/ipv4/foo-bar.ko" lines)
// into module names (dashes as underscores).
func builtinModules(out string) map[string]bool {
	mods := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasSuffix(line, ".ko") {
			continue
		}
		mods[normModule(strings.TrimSuffix(filepath.Base(line), ".ko"))] = true
	}
	return mods
}

func normModule(name string) string { return strings.ReplaceAll(name, "-", "_") }

// boardModules reads the modules PID 1 must load from the board file.
func boardModules(t *testing.T) []string {
	t.Helper()
	root, err := vmlab.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "board", vmlab.DefaultBoard, "board.json"))
	if err != nil {
		t.Fatalf("board file: %v", err)
	}
	var board struct {
		Modules []string `json:"modules"`
	}
	if err := json.Unmarshal(b, &board); err != nil {
		t.Fatalf("board file: %v", err)
	}
	return board.Modules
}

// TestBoot boots the image without network or seed: PID 1 loads IPVS and
// every board module, the daemon logs ready, PID 1 wrote its pid file, and
// the rescue shell works.
func TestBoot(t *testing.T) {
	img := vmlab.NeedImage(t)
	l := vmlab.NewTestLab(t)
	g := boot(t, l, vmlab.GuestConfig{Name: "boot", Image: img})

	loaded := loadedModules(run(t, g, "cat /proc/modules"))
	for _, m := range []string{"ip_vs", "ip_vs_rr", "ip_vs_wrr"} {
		if !loaded[m] {
			t.Errorf("module %s not loaded; /proc/modules has %d modules", m, len(loaded))
		}
	}
	kver := strings.TrimSpace(run(t, g, "cat /proc/sys/kernel/osrelease"))
	builtin := builtinModules(run(t, g, "cat /lib/modules/"+kver+"/modules.builtin"))
	for _, m := range boardModules(t) {
		m = normModule(m)
		if !loaded[m] && !builtin[m] {
			t.Errorf("board module %s is neither loaded nor built in", m)
		}
	}

	// request_module() (e.g. IPVS asking for a scheduler on first use) runs
	// our /sbin/modprobe: the kernel's path points at it, an alias resolves,
	// and a missing module is an error unless -q.
	if p := strings.TrimSpace(run(t, g, "cat /proc/sys/kernel/modprobe")); p != "/sbin/modprobe" {
		t.Errorf("kernel modprobe path %q, want /sbin/modprobe", p)
	}
	run(t, g, "/sbin/modprobe -q -- ip_vs_sed")
	run(t, g, "/sbin/modprobe -q -- no_such_module_xyz")
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	if out, err := g.Run(ctx, "/sbin/modprobe no_such_module_xyz"); err == nil {
		t.Errorf("modprobe of a missing module succeeded: %q", out)
	}

	raw := strings.TrimSpace(run(t, g, "cat /run/lvsboxd.pid"))
	if pid, err := strconv.Atoi(raw); err != nil || pid <= 1 {
		t.Errorf("/run/lvsboxd.pid holds %q, want a pid > 1", raw)
	}
}
