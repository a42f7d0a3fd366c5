package vrrp

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update-golden", false, "TestKeepalivedCapture: rewrite testdata/keepalived.pcap")

// needOrSkip skips (or, with LVSBOX_REQUIRE_ALL=1, fails) when a
// prerequisite of an integration test is missing.
func needOrSkip(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("LVSBOX_REQUIRE_ALL") == "1" {
		t.Fatalf("LVSBOX_REQUIRE_ALL=1 and %s", why)
	}
	t.Skip(why)
}

// TestKeepalivedCapture runs keepalived (three master instances: v2/IPv4 with
// PASS, v3/IPv4 at 0.5 s, v3/IPv6) on one end of a veth pair inside a
// throwaway network namespace, captures the other end with tcpdump, stops
// keepalived (priority-0 adverts) and checks every advert like the golden
// test. With -update-golden it rewrites testdata/keepalived.pcap.
func TestKeepalivedCapture(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the host netns tier")
	}
	needOrSkip(t, os.Geteuid() == 0, "needs root for network namespaces")
	for _, tool := range []string{"ip", "keepalived", "tcpdump"} {
		_, err := exec.LookPath(tool)
		needOrSkip(t, err == nil, tool+" not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	sweepStaleNamespaces(t)
	ns := fmt.Sprintf("%s%d-%d", nsPrefix, os.Getpid(), time.Now().UnixNano()%1_000_000)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("ip", "netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	// No DAD, so the link-local source exists at once.
	run("ip", "netns", "exec", ns, "sh", "-c",
		"echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad && echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad")
	run("ip", "-n", ns, "link", "add", "vA", "address", "02:00:5e:10:00:01", "type", "veth",
		"peer", "name", "vB", "address", "02:00:5e:10:00:02")
	run("ip", "-n", ns, "addr", "add", kaSrc4.String()+"/24", "dev", "vA")
	for _, l := range []string{"lo", "vA", "vB"} {
		run("ip", "-n", ns, "link", "set", l, "up")
	}

	pcapFile := filepath.Join(dir, "cap.pcap")
	dump := startIn(ctx, t, ns, filepath.Join(dir, "tcpdump.log"),
		"tcpdump", "-i", "vB", "-U", "-n", "-w", pcapFile, "ip proto 112 or ip6 proto 112")
	waitFor(t, 10*time.Second, "tcpdump listening", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "tcpdump.log"))
		return bytes.Contains(b, []byte("listening on"))
	})

	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(keepalivedConf("vA")), 0o644); err != nil {
		t.Fatal(err)
	}
	ka := startIn(ctx, t, ns, filepath.Join(dir, "keepalived.log"), "keepalived", "-n", "-l", "-D", "-P",
		"-f", conf, "-p", filepath.Join(dir, "keepalived.pid"), "-r", filepath.Join(dir, "vrrp.pid"))

	// counts returns adverts per VRID at a nonzero priority and at 0.
	counts := func() (normal, stop map[uint8]int) {
		normal, stop = map[uint8]int{}, map[uint8]int{}
		b, _ := os.ReadFile(pcapFile)
		msgs, _ := readPcap(b) // a record may be half written; count what parses
		for _, m := range msgs {
			if len(m.Payload) > 2 {
				if m.Payload[2] == 0 {
					stop[m.Payload[1]]++
				} else {
					normal[m.Payload[1]]++
				}
			}
		}
		return normal, stop
	}
	all := func(m map[uint8]int, n int) bool {
		for _, c := range keepalivedInstances {
			if m[c.VRID] < n {
				return false
			}
		}
		return true
	}
	waitFor(t, 20*time.Second, "two adverts per instance", func() bool { n, _ := counts(); return all(n, 2) })
	if err := ka.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "priority-0 advert per instance", func() bool { _, s := counts(); return all(s, 1) })
	_ = ka.Wait()
	_ = dump.Process.Signal(syscall.SIGINT)
	_ = dump.Wait()

	b, err := os.ReadFile(pcapFile)
	if err != nil {
		t.Fatal(err)
	}
	verifyKeepalivedCapture(t, b, 2)
	if *updateGolden && !t.Failed() {
		if err := os.WriteFile(goldenPcap, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", goldenPcap, len(b))
	}
}

// startIn starts a command inside network namespace ns with its output in
// logFile; cleanup kills it (if still running) and reaps it.
func startIn(ctx context.Context, t *testing.T, ns, logFile string, args ...string) *exec.Cmd {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", args[0], err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		f.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logFile)
			t.Logf("%s output:\n%s", args[0], out)
		}
	})
	return cmd
}

// nsPrefix names this test's namespaces: lvsvrrp-<test pid>-<n>.
const nsPrefix = "lvsvrrp-"

// sweepStaleNamespaces deletes namespaces left by test processes that died
// before their cleanup ran (their pid no longer exists).
func sweepStaleNamespaces(t *testing.T) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, nsPrefix)
		if !ok {
			continue
		}
		pid, _, _ := strings.Cut(rest, "-")
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue
		}
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Logf("sweep: ip netns del %s: %v: %s", name, err, out)
		}
	}
}

// waitFor polls cond every 50 ms until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}
