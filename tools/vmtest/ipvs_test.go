package vmtest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/vmlab"
)

// The IPVS tests run tools/ipvsbench inside a guest. ipvsbench is not part of the
// image: it (and for the benchmark Debian's ipvsadm with its libraries) reaches the
// guest through an extra initramfs appended to the image's (vmlab.ExtraInitramfs).
// ipvsbench works in a private network namespace of its own, so lvsboxd, which
// owns the main namespace's IPVS table, neither sees nor undoes its objects.

var (
	ipvsbenchOnce sync.Once
	ipvsbench     string
	ipvsbenchErr  error
)

const ipvsadmPath = "/usr/sbin/ipvsadm"

// ipvsImage returns the image with /bbin/ipvsbench added, and with ipvsadm (and
// the shared libraries it needs) when withIpvsadm.
func ipvsImage(t *testing.T, withIpvsadm bool) vmlab.Image {
	t.Helper()
	img := vmlab.NeedImage(t)
	ipvsbenchOnce.Do(func() {
		root, err := vmlab.RepoRoot()
		if err != nil {
			ipvsbenchErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		ipvsbench, ipvsbenchErr = vmlab.BuildTool(ctx, root, "./tools/ipvsbench", toolDir)
	})
	if ipvsbenchErr != nil {
		t.Fatal(ipvsbenchErr)
	}
	files := map[string]string{"/bbin/ipvsbench": ipvsbench}
	if withIpvsadm {
		_, err := os.Stat(ipvsadmPath)
		vmlab.Need(t, err == nil, "needs Debian's %s on the host (apt-get install ipvsadm)", ipvsadmPath)
		vmlab.NeedTools(t, "ldd")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		libs, err := vmlab.SharedLibraries(ctx, ipvsadmPath)
		if err != nil {
			t.Fatal(err)
		}
		for g, h := range libs {
			files[g] = h
		}
		files[ipvsadmPath] = ipvsadmPath
	}
	out, err := vmlab.ExtraInitramfs(img, t.TempDir(), files)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runLong runs a long command in the guest's shell and returns its output and
// error (*vmlab.ExitError for a non-zero exit).
func runLong(t *testing.T, g *vmlab.Guest, timeout time.Duration, cmd string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := g.Run(ctx, cmd)
	return strings.ReplaceAll(out, "\r", ""), err
}

// ipvsExerciseChecks are the checks `ipvsbench exercise` must pass.
var ipvsExerciseChecks = []string{
	"info", "schedulers", "scheduler_edit_in_place", "fwmark", "ipv6", "persistence", "thresholds",
	"tunnels", "timeouts", "batch_errors", "lab", "sync_daemons", "nat_traffic", "stats", "stats_rates",
	"edit_scheduler_keeps_connection", "drain_weight_zero",
}

// TestIPVSKernel drives the real kernel's IPVS with lvsbox's own netlink client
// from inside a guest: every scheduler (with the sh/mh flags) programmed and shown
// in /proc/net/ip_vs, fwmark, IPv6 and SCTP services, persistence with netmask,
// thresholds, tunnels (ipip, gue, gre, mixed family), timeouts, sync daemons
// (master and backup), batch errors per object, NAT traffic with stats read back,
// and in-place edits that keep an established connection.
func TestIPVSKernel(t *testing.T) {
	img := ipvsImage(t, false)
	l := vmlab.NewTestLab(t)
	g := boot(t, l, vmlab.GuestConfig{Name: "ipvs", Image: img})
	start := time.Now()
	out, err := runLong(t, g, 10*time.Minute, "/bbin/ipvsbench exercise")
	t.Logf("ipvsbench exercise (%v):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Errorf("ipvsbench exercise: %v", err)
	}
	checks := parseChecks(out)
	for _, name := range ipvsExerciseChecks {
		c, ok := checks[name]
		switch {
		case !ok:
			t.Errorf("check %s did not run", name)
		case !c.ok:
			t.Errorf("check %s failed: %s", name, c.detail)
		}
	}
	scheds := procSchedulers(out)
	for _, s := range []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"} {
		if !scheds[s] {
			t.Errorf("scheduler %s not shown in /proc/net/ip_vs", s)
		}
	}
}

// TestIPVSBench runs the benchmark (lvsbox's batched reconciler vs `ipvsadm -R`
// of the same rules, same guest, same run) and prints its table. It is opt-in:
// LVSBOX_BENCH=1 (LVSBOX_BENCH_SIZES and LVSBOX_BENCH_WINDOW override the table
// shapes and the batch window). Timings are reported, never asserted; the
// benchmark's correctness checks (tables read back equal, zero writes on a no-op
// pass, one write for one change) must pass.
func TestIPVSBench(t *testing.T) {
	if os.Getenv("LVSBOX_BENCH") != "1" {
		t.Skip("benchmark: set LVSBOX_BENCH=1 to run it")
	}
	img := ipvsImage(t, true)
	l := vmlab.NewTestLab(t)
	g := boot(t, l, vmlab.GuestConfig{Name: "bench", Image: img, MemoryMB: 2048})
	cmd := "/bbin/ipvsbench bench"
	if s := os.Getenv("LVSBOX_BENCH_SIZES"); s != "" {
		cmd += " -sizes " + s
	}
	if w := os.Getenv("LVSBOX_BENCH_WINDOW"); w != "" {
		cmd += " -window " + w
	}
	info, err := runLong(t, g, time.Minute, "/bbin/ipvsbench info")
	if err != nil {
		t.Fatalf("ipvsbench info: %v", err)
	}
	start := time.Now()
	out, err := runLong(t, g, 45*time.Minute, cmd)
	t.Logf("%s\n%s (%v):\n%s", strings.TrimSpace(info), cmd, time.Since(start).Round(time.Second), out)
	if err != nil {
		t.Errorf("%s: %v", cmd, err)
	}
	checks := parseChecks(out)
	if len(checks) == 0 {
		t.Fatal("no CHECK lines in the benchmark output")
	}
	for name, c := range checks {
		if !c.ok {
			t.Errorf("check %s failed: %s", name, c.detail)
		}
	}
}
