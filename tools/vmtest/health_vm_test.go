package vmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/vmlab"
)

// The health test topology: the NAT lab of nat_test.go with a third real server,
// and an HTTP check of every real server.
const (
	rs3IP = "198.51.100.13"

	hcInterval = 500 * time.Millisecond
	hcTimeout  = 300 * time.Millisecond
	hcRise     = 2
	hcFall     = 3
)

// detectionBound and recoveryBound are what docs/health.md promises: removal
// within fall x interval + timeout, return within rise x interval (+ check time).
var (
	detectionBound = hcFall*hcInterval + hcTimeout
	recoveryBound  = hcRise * hcInterval
)

// healthChecks are the checks the health test runs with: HTTP, and half-open TCP
// (SYN probes from a raw socket in the guest).
var healthChecks = map[string]map[string]any{
	"http": {"type": "http", "interval": hcInterval.String(), "timeout": hcTimeout.String(),
		"rise": hcRise, "fall": hcFall, "http": map[string]any{"path": "/"}},
	"tcp": {"type": "tcp", "interval": hcInterval.String(), "timeout": hcTimeout.String(),
		"rise": hcRise, "fall": hcFall, "tcp": map[string]any{"half_open": true}},
}

// healthSeed is the seed of the health test: three real servers behind a NAT
// service with a check (a key of healthChecks) each.
func healthSeed(t *testing.T, check string) []byte {
	t.Helper()
	var reals []any
	for _, ip := range []string{rs1IP, rs2IP, rs3IP} {
		reals = append(reals, map[string]any{"address": ip, "port": 80})
	}
	seed := map[string]any{
		"system": map[string]any{"hostname": "lvsbox"},
		"interfaces": []any{
			map[string]any{"name": "eth0", "addresses": []string{"192.0.2.2/24", vip + "/32"}},
			map[string]any{"name": "eth1", "addresses": []string{backGW + "/24"}},
		},
		"virtual_services": []any{map[string]any{
			"name": "web", "protocol": "tcp", "address": vip, "port": 80, "scheduler": "rr", "forwarding": "nat",
			"health_check": healthChecks[check],
			"real_servers": reals,
		}},
	}
	b, err := json.MarshalIndent(seed, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// procDest is a real server as /proc/net/ip_vs writes it ("C633640C:0050").
func procDest(ip string, port uint16) string {
	a := netip.MustParseAddr(ip).As4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", a[0], a[1], a[2], a[3], port)
}

// destWeights returns the real servers of the table (ipvsTable form) with
// their weights, keyed by procDest.
func destWeights(table string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "->" {
			out[f[1]] = f[3]
		}
	}
	return out
}

// healthLab is a booted health topology.
type healthLab struct {
	guest  *vmlab.Guest
	client *vmlab.Host
	reals  map[string]*vmlab.Host
	srv    map[string]*vmlab.Proc
	labsrv string
	booted time.Time // the guest's daemon was ready and its shell answered
	check  string    // the check type (a key of healthChecks)
}

func (h *healthLab) serve(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	p, err := h.reals[name].Start(h.labsrv, "serve", "-name", name, "-listen", map[string]string{"rs1": rs1IP, "rs2": rs2IP, "rs3": rs3IP}[name]+":80")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Out.Wait(ctx, regexp.MustCompile(`listening`)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	h.srv[name] = p
}

// read runs a read-only command in the guest's shell. The daemon logs to the
// same console while checks come and go, and a log line written between the
// shell's marker and its newline hides the marker (vmlab waits for "marker\n"):
// such an attempt times out and the command is run again.
func (h *healthLab) read(t *testing.T, ctx context.Context, cmd string) string {
	t.Helper()
	for attempt := 1; ; attempt++ {
		out, err := h.try(ctx, cmd)
		if err == nil {
			return out
		}
		if ctx.Err() != nil || attempt == 5 {
			t.Fatalf("%s: %v", cmd, err)
		}
		t.Logf("%s: %v (garbled by a log line? retrying)", cmd, err)
	}
}

// try runs cmd once with a short deadline.
func (h *healthLab) try(ctx context.Context, cmd string) (string, error) {
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return h.guest.Run(actx, cmd)
}

// table reads /proc/net/ip_vs in the guest.
func (h *healthLab) table(t *testing.T, ctx context.Context) string {
	t.Helper()
	return ipvsTable(h.read(t, ctx, "cat /proc/net/ip_vs"))
}

// waitTable polls the guest's IPVS table until cond holds. It returns when the
// last poll that did not see it started (the change happened later) and when
// the first poll that saw it ended (the change happened earlier).
func (h *healthLab) waitTable(t *testing.T, ctx context.Context, what string, cond func(map[string]string) bool) (notYet, seen time.Time) {
	t.Helper()
	notYet = time.Now()
	for {
		start := time.Now()
		out, err := h.try(ctx, "cat /proc/net/ip_vs")
		switch {
		case err != nil && ctx.Err() != nil:
			t.Fatalf("waiting for %s: %v", what, err)
		case err != nil:
			t.Logf("waiting for %s: %v (garbled by a log line? polling on)", what, err)
		case cond(destWeights(ipvsTable(out))):
			return notYet, time.Now()
		default:
			notYet = start
		}
	}
}

func newHealthLab(t *testing.T, check string) *healthLab {
	t.Helper()
	img := vmlab.NeedImage(t)
	h := &healthLab{labsrv: labsrvBin(t), reals: map[string]*vmlab.Host{}, srv: map[string]*vmlab.Proc{}, check: check}
	l := vmlab.NewTestLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	var err error
	if h.client, err = l.AddHost(ctx, vmlab.HostConfig{Name: "client", Segment: "front", Addrs: []string{clientIP}}); err != nil {
		t.Fatal(err)
	}
	for _, rs := range []struct{ name, ip string }{{"rs1", rs1IP}, {"rs2", rs2IP}, {"rs3", rs3IP}} {
		host, err := l.AddHost(ctx, vmlab.HostConfig{Name: rs.name, Segment: "back", Addrs: []string{rs.ip + "/24"}, Gateway: backGW})
		if err != nil {
			t.Fatal(err)
		}
		h.reals[rs.name] = host
		h.serve(t, ctx, rs.name)
	}
	h.guest = boot(t, l, vmlab.GuestConfig{
		Name: "lb", Image: img,
		NICs: []vmlab.NIC{{Segment: "front"}, {Segment: "back"}},
		Seed: healthSeed(t, check),
	})
	h.booted = time.Now()
	return h
}

// TestHealth runs the health checks against real IPVS: failover of a dead real
// server and a daemon restart that must not disturb the table.
func TestHealth(t *testing.T) {
	h := newHealthLab(t, "http")
	t.Run("failover", h.failover)
	t.Run("daemon_restart", h.daemonRestart)
}

// TestHealthHalfOpen runs the failover with half-open TCP checks: the daemon's
// raw socket SYN probes in the real image.
func TestHealthHalfOpen(t *testing.T) {
	h := newHealthLab(t, "tcp")
	t.Run("failover", h.failover)
}

// failover: a continuous client keeps being served while one of three real
// servers dies (only requests sent to it before the check removed it fail); the
// dead server leaves the table within the detection window and returns after it
// is restarted.
func (h *healthLab) failover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*stepTimeout)
	defer cancel()
	rs1, rs2, rs3 := procDest(rs1IP, 80), procDest(rs2IP, 80), procDest(rs3IP, 80)

	// New servers start down and come in after rise passing checks.
	_, in := h.waitTable(t, ctx, "all three real servers in the table", func(m map[string]string) bool {
		return m[rs1] == "1" && m[rs2] == "1" && m[rs3] == "1" && len(m) == 3
	})
	t.Logf("all three real servers in the table at most %v after the guest's shell answered", in.Sub(h.booted).Round(time.Millisecond))

	load, err := h.client.Start(h.labsrv, "get", "-n", "0", "-interval", "50ms", "-timeout", "2s", vipURL)
	if err != nil {
		t.Fatal(err)
	}
	okLine := regexp.MustCompile(`(?m)^ok rs2$`)
	if _, err := load.Out.Wait(ctx, okLine); err != nil { // traffic reaches rs2 before the kill
		t.Fatalf("client before the kill: %v", err)
	}

	logFrom := h.guest.Console.End()
	killed := time.Now()
	if err := h.srv["rs2"].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Out of the table, or at weight 0 (should a drain period keep removed
	// destinations at weight 0 for a while): either way no new connections.
	notYet, seen := h.waitTable(t, ctx, "rs2 out of the table", func(m map[string]string) bool { w, ok := m[rs2]; return !ok || w == "0" })
	removedAt := load.Out.End()
	t.Logf("rs2 killed: out of the IPVS table after %v..%v (bound fall %d x interval %v + timeout %v = %v)",
		notYet.Sub(killed).Round(time.Millisecond), seen.Sub(killed).Round(time.Millisecond), hcFall, hcInterval, hcTimeout, detectionBound)
	if late := notYet.Sub(killed); late > detectionBound+time.Second {
		t.Errorf("rs2 was still in the table %v after the kill, beyond the detection window %v (+1 s slack for TCG)", late, detectionBound)
	}
	m, err := h.guest.Console.WaitFrom(ctx, logFrom, regexp.MustCompile(`msg="health: down" type=`+h.check+` target=198\.51\.100\.12:80 reason="([^"]*)"`))
	if err != nil {
		t.Fatalf("no health: down log line: %v", err)
	}
	t.Logf("log: health: down, reason %q", m.Groups[1])
	if !strings.Contains(m.Groups[1], "3 failed checks, last: connect: connection refused") {
		t.Errorf("down reason %q", m.Groups[1])
	}
	if got := destWeights(h.table(t, ctx)); got[rs1] != "1" || got[rs3] != "1" {
		t.Errorf("surviving real servers changed: %v", got)
	}
	status := h.read(t, ctx, "lvsbox status")
	if !regexp.MustCompile(`198\.51\.100\.12:80\s+DOWN\s+no\s+` + h.check + `\s+\S+\s+\d+\s+connect: connection refused`).MatchString(status) {
		t.Errorf("lvsbox status does not show rs2 down:\n%s", status)
	}

	// The client goes on: only rs1 and rs3 answer, nothing fails.
	served := regexp.MustCompile(`(?m)^ok rs[13]$`)
	load.Out.Skip()
	for range 20 {
		if _, err := load.Out.Wait(ctx, served); err != nil {
			t.Fatalf("client after the removal: %v", err)
		}
	}

	restarted := time.Now()
	h.serve(t, ctx, "rs2")
	notYet, seen = h.waitTable(t, ctx, "rs2 back in the table", func(m map[string]string) bool { return m[rs2] == "1" })
	t.Logf("rs2 restarted: back in the IPVS table after %v..%v (bound rise %d x interval %v = %v + check time)",
		notYet.Sub(restarted).Round(time.Millisecond), seen.Sub(restarted).Round(time.Millisecond), hcRise, hcInterval, recoveryBound)
	if late := notYet.Sub(restarted); late > recoveryBound+hcInterval+time.Second {
		t.Errorf("rs2 was still out %v after its restart, beyond rise x interval %v (+ one interval and 1 s slack)", late, recoveryBound)
	}
	load.Out.Skip()
	if _, err := load.Out.Wait(ctx, okLine); err != nil {
		t.Fatalf("rs2 gets no traffic after its return: %v", err)
	}

	if err := load.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	load.Wait(ctx)
	whole := load.Out.String()
	afterRemoval := load.Out.Since(removedAt)
	counts, _ := countAnswers(whole)
	_, failedBefore := countAnswers(strings.TrimSuffix(whole, afterRemoval))
	_, failedAfter := countAnswers(afterRemoval)
	t.Logf("client: %v answers; %d failed before rs2 left the table (sent to it while it was dead), %d after",
		counts, len(failedBefore), len(failedAfter))
	// A request may have been on its way to rs2 when the table changed.
	if len(failedAfter) > 1 {
		t.Errorf("client requests failed after rs2 had left the table:\n%s", strings.Join(failedAfter, "\n"))
	}
	if len(failedBefore) == 0 {
		t.Logf("no request reached the dead rs2 before its removal")
	}
}

// daemonRestart: lvsboxd killed with -9 and restarted by PID 1 adopts the real
// servers the kernel has in service: the table is the same right after the new
// daemon is ready and stays so, and a client looping meanwhile sees no failure.
func (h *healthLab) daemonRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*stepTimeout)
	defer cancel()
	g := h.guest
	before := h.table(t, ctx)
	if n := len(destWeights(before)); n != 3 {
		t.Fatalf("table before the restart has %d real servers:\n%s", n, before)
	}
	pid := strings.TrimSpace(h.read(t, ctx, "cat /run/lvsboxd.pid"))
	load, err := h.client.Start(h.labsrv, "get", "-n", "0", "-interval", "50ms", "-timeout", "2s", vipURL)
	if err != nil {
		t.Fatal(err)
	}
	okLine := regexp.MustCompile(`(?m)^ok `)
	for range 3 {
		if _, err := load.Out.Wait(ctx, okLine); err != nil {
			t.Fatalf("client before the kill: %v", err)
		}
	}
	g.Console.Skip()
	logFrom := g.Console.End()
	killed := time.Now()
	if err := g.Shell.Send("kill -9 " + pid); err != nil { // not retried: typed once
		t.Fatal(err)
	}
	if _, err := g.WaitConsole(ctx, readyRE); err != nil {
		t.Fatalf("daemon not ready again: %v", err)
	}
	t.Logf("daemon ready again %v after kill -9", time.Since(killed).Round(time.Millisecond))
	if after := h.table(t, ctx); after != before {
		t.Errorf("table changed by the restart:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Several check rounds later nothing has moved either.
	for range 2 * hcFall {
		if _, err := load.Out.Wait(ctx, okLine); err != nil {
			t.Fatalf("client after the restart: %v", err)
		}
	}
	if !strings.Contains(g.Console.Since(logFrom), "health: real servers in service in the kernel start up\" adopted=3 checked=3") {
		t.Errorf("the restarted daemon did not log adopting 3 real servers:\n%s", g.Console.Since(logFrom))
	}
	if after := h.table(t, ctx); after != before {
		t.Errorf("table changed after the restart:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if err := load.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	load.Wait(ctx)
	counts, failed := countAnswers(load.Out.String())
	t.Logf("client during the restart: %v answers, %d failed", counts, len(failed))
	if len(failed) > 0 {
		t.Errorf("client failures during the daemon restart:\n%s", strings.Join(failed, "\n"))
	}
}
