package scheduler

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/tools/testenv"
)

// The netns test's checks: every 500 ms, timeout 300 ms, rise 2, fall 3; HTTP, and
// half-open TCP (raw socket SYN probes).
var netnsSpecs = map[string]health.Spec{
	"http": {
		Type: health.TypeHTTP, Interval: 500 * time.Millisecond, Timeout: 300 * time.Millisecond,
		Rise: 2, Fall: 3, HTTP: &health.HTTPSpec{Path: "/"},
	},
	"tcp-half-open": {
		Type: health.TypeTCP, Interval: 500 * time.Millisecond, Timeout: 300 * time.Millisecond,
		Rise: 2, Fall: 3, TCP: &health.TCPSpec{HalfOpen: true},
	},
}

const (
	helperEnv      = "LVSBOX_HC_NETNS_HELPER" // comma-separated real servers
	helperCheckEnv = "LVSBOX_HC_NETNS_CHECK"  // a key of netnsSpecs
)

// transitionLine is what the helper prints per transition (and at the end).
type transitionLine struct {
	At     int64  `json:"at"` // unix nanoseconds
	Target string `json:"target"`
	Up     bool   `json:"up"`
	Reason string `json:"reason"`
	Subs   int    `json:"subs"`
	Checks uint64 `json:"checks,omitempty"` // final line per probe
	Final  bool   `json:"final,omitempty"`
}

// netnsHelper runs a scheduler for three services sharing the real servers named
// in the environment until SIGTERM, printing transitions as JSON lines.
func netnsHelper() int {
	enc := json.NewEncoder(os.Stdout)
	netnsSpec, ok := netnsSpecs[os.Getenv(helperCheckEnv)]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s=%q: unknown check\n", helperCheckEnv, os.Getenv(helperCheckEnv))
		return 1
	}
	var subs []Subscription
	for _, rs := range strings.Split(os.Getenv(helperEnv), ",") {
		ap := netip.MustParseAddrPort(rs)
		for _, svc := range []string{"web", "web-alt", "api"} {
			subs = append(subs, Subscription{ID: svc + "/" + rs, Service: svc, Server: ap, Spec: netnsSpec})
		}
	}
	s := New(Config{
		Workers: 8,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observers: []Observer{ObserverFunc(func(e Event) {
			if e.Transition != nil {
				enc.Encode(transitionLine{At: e.Transition.At.UnixNano(), Target: e.Target.String(), Up: e.Transition.Up, Reason: e.Transition.Reason, Subs: len(e.Subscribers)})
			}
		})},
	})
	if _, err := s.Apply(subs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	s.Run(ctx)
	for _, p := range s.Snapshot().Probes {
		enc.Encode(transitionLine{Target: p.Target.String(), Up: p.Up, Subs: len(p.Subscribers), Checks: p.Checks, Final: true})
	}
	return 0
}

// lab is a set of namespaces: lb with a bridge, real servers on veths into it.
type lab struct {
	t      *testing.T
	prefix string
}

func (l *lab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (l *lab) ns(name string) string { return l.prefix + name }

func (l *lab) addNS(name string) {
	l.ip("netns", "add", l.ns(name))
	l.t.Cleanup(func() { exec.Command("ip", "netns", "del", l.ns(name)).Run() })
	l.ip("-n", l.ns(name), "link", "set", "lo", "up")
}

// start runs argv in namespace ns; the process is killed at cleanup (and when the
// test binary dies).
func (l *lab) start(ns string, stdout io.Writer, env []string, argv ...string) *exec.Cmd {
	l.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.ns(ns)}, argv...)...)
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// startServer runs hcserver in a real server's namespace and waits until it listens.
func (l *lab) startServer(bin, ns, addr string) *exec.Cmd {
	l.t.Helper()
	pr, pw := io.Pipe()
	cmd := l.start(ns, pw, nil, bin, "-mode", "http", "-listen", addr)
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		l.t.Fatalf("hcserver in %s: %q %v", ns, line, err)
	}
	go io.Copy(io.Discard, pr)
	return cmd
}

// TestNetnsDetection: three real servers in namespaces, checked over a bridge by a
// scheduler running in its own namespace (three services share each server). A
// killed server (connection refused) and an unplugged one (timeouts) must be
// removed within fall x interval + timeout, and return within rise x interval of
// coming back. Once with HTTP checks, once with half-open TCP checks.
func TestNetnsDetection(t *testing.T) {
	testenv.NeedRoot(t)
	bin := hcserver(t)
	for _, check := range []string{"http", "tcp-half-open"} {
		t.Run(check, func(t *testing.T) { netnsDetection(t, bin, check) })
	}
}

func netnsDetection(t *testing.T, bin, check string) {
	netnsSpec := netnsSpecs[check]
	l := &lab{t: t, prefix: fmt.Sprintf("lvhc-%d-%s-", os.Getpid(), check[:1])}
	l.addNS("lb")
	l.ip("-n", l.ns("lb"), "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
	l.ip("-n", l.ns("lb"), "addr", "add", "198.51.100.1/24", "dev", "br0")
	l.ip("-n", l.ns("lb"), "link", "set", "br0", "up")
	servers := map[string]string{}
	var targets []string
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("rs%d", i)
		addr := fmt.Sprintf("198.51.100.1%d:80", i)
		l.addNS(name)
		l.ip("-n", l.ns("lb"), "link", "add", "v"+name, "type", "veth", "peer", "name", "eth0", "netns", l.ns(name))
		l.ip("-n", l.ns("lb"), "link", "set", "v"+name, "master", "br0", "up")
		l.ip("-n", l.ns(name), "addr", "add", strings.TrimSuffix(addr, ":80")+"/24", "dev", "eth0")
		l.ip("-n", l.ns(name), "link", "set", "eth0", "up")
		servers[name] = addr
		targets = append(targets, addr)
	}
	procs := map[string]*exec.Cmd{}
	for name, addr := range servers {
		procs[name] = l.startServer(bin, name, addr)
	}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	helper := l.start("lb", pw, []string{helperEnv + "=" + strings.Join(targets, ","), helperCheckEnv + "=" + check}, self, "-test.run=^$")
	lines := make(chan transitionLine, 64)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var tl transitionLine
			if err := json.Unmarshal(sc.Bytes(), &tl); err != nil {
				t.Errorf("helper said %q", sc.Text())
				continue
			}
			lines <- tl
		}
		close(lines)
	}()
	next := func(what string, within time.Duration) transitionLine {
		t.Helper()
		select {
		case tl, ok := <-lines:
			if !ok {
				t.Fatalf("helper ended while waiting for %s", what)
			}
			return tl
		case <-time.After(within):
			t.Fatalf("no transition within %v waiting for %s", within, what)
		}
		panic("unreachable")
	}

	// All three come up: first attempt within one interval, then rise-1 intervals.
	started := time.Now()
	for range 3 {
		tl := next("initial up", 10*time.Second)
		if !tl.Up || tl.Subs != 3 {
			t.Fatalf("initial transition %+v", tl)
		}
	}
	t.Logf("all up %v after start", time.Since(started).Round(time.Millisecond))

	iv, to := netnsSpec.Interval, netnsSpec.Timeout
	removeBound := time.Duration(netnsSpec.Fall)*iv + to
	returnBound := time.Duration(netnsSpec.Rise)*iv + to
	// Scheduling slack for a loaded two-core box; the figures are logged.
	const slack = 500 * time.Millisecond
	measure := func(what, target string, up bool, since time.Time, bound time.Duration) time.Duration {
		t.Helper()
		tl := next(what, bound+5*time.Second)
		if tl.Target != target || tl.Up != up {
			t.Fatalf("%s: got transition %+v", what, tl)
		}
		d := time.Unix(0, tl.At).Sub(since)
		t.Logf("%-28s %6v (bound %v) reason: %s", what, d.Round(time.Millisecond), bound, tl.Reason)
		if d > bound+slack {
			t.Errorf("%s took %v, bound %v (+%v slack)", what, d, bound, slack)
		}
		return d
	}

	// rs2's server dies: connection refused.
	killed := time.Now()
	procs["rs2"].Process.Kill()
	procs["rs2"].Wait()
	measure("removal (process killed)", servers["rs2"], false, killed, removeBound)
	restarted := time.Now()
	procs["rs2"] = l.startServer(bin, "rs2", servers["rs2"])
	measure("return (process restarted)", servers["rs2"], true, restarted, returnBound)

	// rs3 is unplugged: packets vanish, attempts time out.
	unplugged := time.Now()
	l.ip("-n", l.ns("rs3"), "link", "set", "eth0", "down")
	measure("removal (link down, timeouts)", servers["rs3"], false, unplugged, removeBound)
	plugged := time.Now()
	l.ip("-n", l.ns("rs3"), "link", "set", "eth0", "up")
	measure("return (link up)", servers["rs3"], true, plugged, returnBound)

	// Dedup: one probe per server, shared by three services, one attempt per interval.
	elapsed := time.Since(started)
	helper.Process.Signal(syscall.SIGTERM)
	for range 3 {
		tl := next("final counts", 5*time.Second)
		if !tl.Final {
			t.Fatalf("unexpected transition %+v", tl)
		}
		max := uint64(elapsed/iv) + 2
		t.Logf("probe %s: %d attempts in %v shared by %d services", tl.Target, tl.Checks, elapsed.Round(time.Millisecond), tl.Subs)
		if tl.Subs != 3 || tl.Checks > max || tl.Checks < max/2 {
			t.Errorf("probe %s: %d attempts for %d services in %v, want about %d", tl.Target, tl.Checks, tl.Subs, elapsed, max-2)
		}
	}
}
