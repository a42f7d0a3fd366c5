package vmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/vmlab"
)

// The NAT topology: client -- front -- [eth0 lvsbox eth1] -- back -- rs1, rs2.
const (
	vip      = "192.0.2.100"
	vipURL   = "http://" + vip + "/"
	clientIP = "192.0.2.10/24"
	rs1IP    = "198.51.100.11"
	rs2IP    = "198.51.100.12"
	backGW   = "198.51.100.1"
)

// natSeed is the seed config of the NAT tests (docs/architecture.md, schema 1).
func natSeed(t *testing.T) []byte {
	t.Helper()
	seed := map[string]any{
		"system": map[string]any{"hostname": "lvsbox"},
		"interfaces": []any{
			map[string]any{"name": "eth0", "addresses": []string{"192.0.2.2/24", vip + "/32"}},
			map[string]any{"name": "eth1", "addresses": []string{backGW + "/24"}},
		},
		"virtual_services": []any{
			map[string]any{
				"name": "web", "protocol": "tcp", "address": vip, "port": 80,
				"scheduler": "wrr", "forwarding": "nat",
				"real_servers": []any{
					map[string]any{"address": rs1IP, "port": 80, "weight": 3},
					map[string]any{"address": rs2IP, "port": 80, "weight": 1},
				},
			},
		},
	}
	b, err := json.MarshalIndent(seed, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// natLab is a booted NAT topology.
type natLab struct {
	lab    *vmlab.Lab
	guest  *vmlab.Guest
	client *vmlab.Host
	labsrv string
}

func newNATLab(t *testing.T) *natLab {
	t.Helper()
	img := vmlab.NeedImage(t)
	bin := labsrvBin(t)
	l := vmlab.NewTestLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	client, err := l.AddHost(ctx, vmlab.HostConfig{Name: "client", Segment: "front", Addrs: []string{clientIP}})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range []struct{ name, ip string }{{"rs1", rs1IP}, {"rs2", rs2IP}} {
		h, err := l.AddHost(ctx, vmlab.HostConfig{Name: rs.name, Segment: "back", Addrs: []string{rs.ip + "/24"}, Gateway: backGW})
		if err != nil {
			t.Fatal(err)
		}
		p, err := h.Start(bin, "serve", "-name", rs.name, "-listen", rs.ip+":80")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Out.Wait(ctx, regexp.MustCompile(`listening`)); err != nil {
			t.Fatalf("%s: %v", rs.name, err)
		}
	}
	g := boot(t, l, vmlab.GuestConfig{
		Name:  "lb",
		Image: img,
		NICs:  []vmlab.NIC{{Segment: "front"}, {Segment: "back"}},
		Seed:  natSeed(t),
	})
	return &natLab{lab: l, guest: g, client: client, labsrv: bin}
}

// countAnswers parses `labsrv get` output into answers per server name and
// the failed requests.
func countAnswers(out string) (map[string]int, []string) {
	counts := map[string]int{}
	var failed []string
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(line, "ok "); ok {
			counts[name]++
		} else if strings.HasPrefix(line, "err ") {
			failed = append(failed, line)
		}
	}
	return counts, failed
}

// ipvsTable reduces /proc/net/ip_vs to its configuration: service lines and
// real servers with forwarding method and weight, without the connection
// counters (which move with traffic) and without interleaved log lines.
func ipvsTable(out string) string {
	svc := regexp.MustCompile(`^(TCP|UDP|SCTP|FWM)\s+\S+\s+\S+`)
	rs := regexp.MustCompile(`^\s+->\s+([0-9A-F]+:[0-9A-F]+|\[[0-9a-f:]+\]:[0-9A-F]+)\s+(\S+)\s+([0-9]+)\s+[0-9]+\s+[0-9]+\s*$`)
	var lines []string
	for _, line := range strings.Split(out, "\n") {
		if m := rs.FindStringSubmatch(line); m != nil {
			lines = append(lines, fmt.Sprintf("  -> %s %s %s", m[1], m[2], m[3]))
		} else if m := svc.FindString(line); m != "" {
			lines = append(lines, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(lines, "\n")
}

func TestNAT(t *testing.T) {
	n := newNATLab(t)
	ctx := context.Background()

	t.Run("wrr_3_to_1", func(t *testing.T) {
		tctx, cancel := context.WithTimeout(ctx, 2*stepTimeout)
		defer cancel()
		out, err := n.client.Exec(tctx, n.labsrv, "get", "-n", "40", vipURL)
		counts, failed := countAnswers(string(out))
		if err != nil || len(failed) > 0 {
			t.Logf("ipvs table:\n%s", run(t, n.guest, "cat /proc/net/ip_vs"))
			t.Fatalf("requests from the client failed: %v\n%s", err, out)
		}
		if counts["rs1"] != 30 || counts["rs2"] != 10 || len(counts) != 2 {
			t.Fatalf("answers %v, want rs1:30 rs2:10", counts)
		}
	})

	// The daemon's status API answers on the guest's own address (a
	// GOPATH-mode busybox build once served 404 here: old ServeMux rules).
	t.Run("status_api", func(t *testing.T) {
		tctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		out, err := n.client.Exec(tctx, n.labsrv, "get", "-n", "1", "http://192.0.2.2/api/v1/status")
		if err != nil || !regexp.MustCompile(`"ready":\s*true`).Match(out) {
			t.Fatalf("GET /api/v1/status from the client: %v\n%s", err, out)
		}
	})

	t.Run("daemon_restart", func(t *testing.T) {
		g := n.guest
		before := ipvsTable(run(t, g, "cat /proc/net/ip_vs"))
		if !strings.Contains(before, "TCP C0000264:0050 wrr") {
			t.Fatalf("ipvs table before the restart lacks the service:\n%s", before)
		}
		oldPid := strings.TrimSpace(run(t, g, "cat /run/lvsboxd.pid"))
		if _, err := strconv.Atoi(oldPid); err != nil {
			t.Fatalf("/run/lvsboxd.pid holds %q", oldPid)
		}

		load, err := n.client.Start(n.labsrv, "get", "-n", "0", "-interval", "100ms", "-timeout", "2s", vipURL)
		if err != nil {
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, 2*stepTimeout)
		defer cancel()
		okLine := regexp.MustCompile(`(?m)^ok `)
		for range 5 { // traffic flows before the kill
			if _, err := load.Out.Wait(tctx, okLine); err != nil {
				t.Fatalf("client before the kill: %v", err)
			}
		}

		g.Console.Skip()
		killed := time.Now()
		run(t, g, "kill -9 "+oldPid)
		if _, err := g.WaitConsole(tctx, readyRE); err != nil {
			t.Fatalf("daemon not ready again after kill -9: %v", err)
		}
		t.Logf("daemon ready again %v after kill -9", time.Since(killed).Round(time.Millisecond))
		newPid := strings.TrimSpace(run(t, g, "cat /run/lvsboxd.pid"))
		if newPid == oldPid {
			t.Errorf("/run/lvsboxd.pid still holds the killed pid %s", oldPid)
		}

		load.Out.Skip()
		for range 10 { // traffic keeps flowing after the restart
			if _, err := load.Out.Wait(tctx, okLine); err != nil {
				t.Fatalf("client after the restart: %v", err)
			}
		}
		if err := load.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		werr := load.Wait(tctx)
		counts, failed := countAnswers(load.Out.String())
		if werr != nil || len(failed) > 0 {
			t.Errorf("client saw failures during the restart (%v): %d failed, answers %v:\n%s", werr, len(failed), counts, strings.Join(failed, "\n"))
		} else {
			t.Logf("client answers during the restart: %v", counts)
		}

		after := ipvsTable(run(t, g, "cat /proc/net/ip_vs"))
		if after != before {
			t.Errorf("ipvs table changed across the restart:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}
