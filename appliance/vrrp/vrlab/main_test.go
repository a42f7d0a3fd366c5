package vrlab

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrfile"
)

// vrrpdBin is cmd/vrrpd built once for the test binary ("" if not built).
var (
	vrrpdBin   string
	buildErr   error
	buildDir   string
	isRoot     = os.Geteuid() == 0
	requireAll = os.Getenv("LVSBOX_REQUIRE_ALL") == "1"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if isRoot && !testing.Short() {
		Sweep()
		var err error
		if buildDir, err = os.MkdirTemp("", "vrlab-bin-"); err == nil {
			vrrpdBin = filepath.Join(buildDir, "vrrpd")
			out, err := exec.Command("go", "build", "-o", vrrpdBin, "github.com/lvsbox/lvsbox/appliance/vrrp/cmd/vrrpd").CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("build vrrpd: %v: %s", err, out)
				vrrpdBin = ""
			}
		}
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// skipOrFail skips (or fails under LVSBOX_REQUIRE_ALL=1) with why.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if requireAll {
		t.Fatalf("LVSBOX_REQUIRE_ALL=1 and %s", why)
	}
	t.Skip(why)
}

// newLab makes a lab for the test (closed, with logs printed on failure, by
// t.Cleanup); tools lists extra commands the test needs.
func newLab(t *testing.T, tools ...string) *Lab {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the host netns tier")
	}
	if !isRoot {
		skipOrFail(t, "needs root for network namespaces")
	}
	for _, tool := range append([]string{"ip", "go"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFail(t, tool+" not installed")
		}
	}
	if vrrpdBin == "" {
		t.Fatalf("vrrpd not built: %v", buildErr)
	}
	dir := t.TempDir()
	l, err := New(dir, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() && os.Getenv("VRLAB_LOGS") != "" {
			l.mu.Lock()
			procs := append([]*Proc(nil), l.procs...)
			l.mu.Unlock()
			for _, p := range procs {
				if !strings.HasSuffix(p.Log, ".log") {
					continue
				}
				out := p.Output()
				if len(out) > 20000 {
					out = "...\n" + out[len(out)-20000:]
				}
				t.Logf("=== %s ===\n%s", p.Name, out)
			}
		}
		if err := l.Close(); err != nil {
			t.Errorf("lab close: %v", err)
		}
	})
	return l
}

// addNodes adds routers r1..rN (192.0.2.N/24) and a client (192.0.2.10/24)
// on one segment.
func addNodes(t *testing.T, l *Lab, n int) (routers []*Node, client *Node) {
	t.Helper()
	for i := 1; i <= n; i++ {
		r, err := l.AddNode(fmt.Sprintf("r%d", i), LinkSpec{Addrs: []string{fmt.Sprintf("192.0.2.%d/24", i), fmt.Sprintf("2001:db8::%d/64", i)}})
		if err != nil {
			t.Fatal(err)
		}
		routers = append(routers, r)
	}
	client, err := l.AddNode("client", LinkSpec{Addrs: []string{"192.0.2.10/24", "2001:db8::10/64"}})
	if err != nil {
		t.Fatal(err)
	}
	return routers, client
}

func inst(name string, vrid, prio uint8, interval string, mod ...func(*vrfile.Instance)) vrfile.Instance {
	d, err := time.ParseDuration(interval)
	if err != nil {
		panic(err)
	}
	in := vrfile.Instance{Name: name, Interface: "eth0", Version: 3, VRID: vrid, Priority: prio,
		AdvertInterval: vrfile.Duration(d), VIPs: []string{fmt.Sprintf("192.0.2.%d/24", 100+int(vrid))}}
	for _, f := range mod {
		f(&in)
	}
	return in
}

func one(in ...vrfile.Instance) vrfile.File { return vrfile.File{Instances: in} }

// testRT is the SCHED_RR priority the tests give vrrpd and keepalived: the
// host is shared, and a daemon starved for a few hundred ms would make a
// legitimate takeover that the tests would read as a protocol bug.
const testRT = 1

func startVRRPD(t *testing.T, n *Node, cfg vrfile.File, extra ...string) *VRRPD {
	t.Helper()
	d, err := n.StartVRRPD(vrrpdBin, "vrrpd", cfg, append([]string{"-rt", strconv.Itoa(testRT)}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for end := start.Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return time.Since(start)
		}
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// holds checks that cond stays true for d.
func holds(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
	}
}

// holders lists the nodes that have addr on dev.
func holders(dev, addr string, nodes ...*Node) []string {
	var out []string
	for _, n := range nodes {
		if n.HasAddr(dev, addr) {
			out = append(out, n.Name)
		}
	}
	return out
}

// onlyOn reports whether exactly want holds addr among nodes.
func onlyOn(want *Node, dev, addr string, nodes ...*Node) bool {
	h := holders(dev, addr, nodes...)
	return len(h) == 1 && h[0] == want.Name
}

func state(d *VRRPD, name string) string { return d.Instance(name).State }

// TransitionRecord is node.TransitionRecord.
type TransitionRecord = node.TransitionRecord
