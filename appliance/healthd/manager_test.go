package healthd

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/engine"
	"github.com/lvsbox/lvsbox/appliance/events"
	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/checker"
	"github.com/lvsbox/lvsbox/appliance/health/healthtest"
	"github.com/lvsbox/lvsbox/appliance/health/scheduler"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

var (
	t0    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// harness runs a Manager on a manual clock with one scripted checker per target
// (passing until told otherwise).
type harness struct {
	t     *testing.T
	clock *healthtest.Clock
	m     *Manager
	hub   *events.Hub
	sub   *events.Subscription
	kicks atomic.Int32
	seen  atomic.Int64 // attempts the observers have seen

	mu       sync.Mutex
	checkers map[netip.AddrPort]*healthtest.Checker
	built    int
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, clock: healthtest.NewClock(t0), checkers: map[netip.AddrPort]*healthtest.Checker{},
		hub: events.NewHub(256, "test", nil)}
	_, _, h.sub = h.hub.Subscribe("")
	h.m = New(Options{
		Scheduler: scheduler.Config{Clock: h.clock, Rand: healthtest.FixedRand{}, Workers: 4,
			Observers: []scheduler.Observer{scheduler.ObserverFunc(func(scheduler.Event) { h.seen.Add(1) })},
			NewChecker: func(spec health.Spec, server netip.AddrPort) (checker.Checker, error) {
				h.mu.Lock()
				defer h.mu.Unlock()
				h.built++
				return h.checker(spec.Target(server)), nil
			}},
		Log: quiet, Events: h.hub, OnChange: func() { h.kicks.Add(1) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

// checker returns the target's checker; call with mu held or before Run.
func (h *harness) checker(target netip.AddrPort) *healthtest.Checker {
	c, ok := h.checkers[target]
	if !ok {
		c = healthtest.NewChecker(healthtest.Pass)
		h.checkers[target] = c
	}
	return c
}

func (h *harness) set(target string, r health.Result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checker(netip.MustParseAddrPort(target)).Set(r)
}

// settle waits until every probe due by now has run and the manager has
// evaluated the results.
func (h *harness) settle() {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := h.clock.Now()
		done := true
		for _, p := range h.m.sched.Snapshot().Probes {
			if p.Running || !p.Next.After(now) {
				done = false
			}
		}
		if done && h.seen.Load() == h.calls() {
			break
		}
		if time.Now().After(deadline) {
			h.t.Fatal("probes did not settle")
		}
		time.Sleep(time.Millisecond)
	}
	h.m.mu.Lock()
	changed, _ := h.m.evaluate() // whatever Run has not evaluated yet
	h.m.mu.Unlock()
	if changed && h.m.o.OnChange != nil {
		h.m.o.OnChange()
	}
}

// calls is the number of attempts started so far.
func (h *harness) calls() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var n int64
	for _, c := range h.checkers {
		n += int64(c.Calls())
	}
	return n
}

// tick advances the clock by d and settles.
func (h *harness) tick(d time.Duration) {
	h.t.Helper()
	h.clock.Advance(d)
	h.settle()
}

// verdict is the current verdict on one real server of a service.
func (h *harness) verdict(rev uint64, cfg config.Config, svc, server string) engine.ServerVerdict {
	h.t.Helper()
	v := h.m.Configure(rev, cfg).Services[svc]
	ap := netip.MustParseAddrPort(server)
	sv, ok := v.Servers[ipvs.DestinationKey{Addr: ap.Addr(), Port: ap.Port()}]
	if !ok {
		h.t.Fatalf("no verdict on %s/%s", svc, server)
	}
	return sv
}

// events drains the published health events.
func (h *harness) events() []Event {
	var out []Event
	for {
		select {
		case ev := <-h.sub.C:
			var e Event
			if err := json.Unmarshal(ev.Data, &e); err != nil || ev.Type != EventType {
				h.t.Fatalf("event %s %s: %v", ev.Type, ev.Data, err)
			}
			out = append(out, e)
		default:
			return out
		}
	}
}

func kinds(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind+" "+e.Service+" "+e.RealServer)
	}
	return out
}

const webDoc = `{
  "virtual_services": [
    {"name": "web", "address": "192.0.2.100", "port": 80, "forwarding": "nat",
     "health_check": {"type": "http", "interval": "1s", "rise": 2, "fall": 2},
     "sorry_server": {"address": "198.51.100.99"},
     "real_servers": [
       {"address": "198.51.100.11", "weight": 3},
       {"address": "198.51.100.12"},
       {"address": "198.51.100.13", "health_check": {"type": "http", "interval": "1s", "on_failure": "quiesce"}}
     ]}
  ]
}`

var (
	absent   = engine.ServerVerdict{}
	quiesced = engine.ServerVerdict{Present: true}
)

func in(w int) engine.ServerVerdict { return engine.ServerVerdict{Present: true, Weight: w} }

// TestNewServersStartDownThenRise: without adoption every checked server starts
// out of service (absent, or weight 0 when quiesced), the sorry server is active,
// and after rise passing checks they come in, the sorry server leaves and the
// engine is kicked; a failing server leaves after fall rounds with events.
func TestNewServersStartDownThenRise(t *testing.T) {
	h := newHarness(t)
	cfg := mustDecode(t, webDoc)
	v := h.m.Configure(1, cfg)
	if sv := v.Services["web"]; !sv.Sorry {
		t.Fatalf("sorry server not active while nothing is up: %+v", sv)
	}
	for server, want := range map[string]engine.ServerVerdict{"198.51.100.11:80": absent, "198.51.100.12:80": absent, "198.51.100.13:80": quiesced} {
		if got := h.verdict(1, cfg, "web", server); got != want {
			t.Errorf("%s before any check: %+v, want %+v", server, got, want)
		}
	}
	h.settle() // first attempts (offset 0): one pass each, rise 2
	if got := h.verdict(1, cfg, "web", "198.51.100.11:80"); got != absent {
		t.Fatalf("in service after one pass: %+v", got)
	}
	kicks := h.kicks.Load()
	h.tick(time.Second)
	for server, want := range map[string]engine.ServerVerdict{"198.51.100.11:80": in(3), "198.51.100.12:80": in(1), "198.51.100.13:80": in(1)} {
		if got := h.verdict(1, cfg, "web", server); got != want {
			t.Errorf("%s after rise: %+v, want %+v", server, got, want)
		}
	}
	if h.m.Configure(1, cfg).Services["web"].Sorry || h.kicks.Load() == kicks {
		t.Errorf("after rise: sorry %v, kicks %d -> %d", h.m.Configure(1, cfg).Services["web"].Sorry, kicks, h.kicks.Load())
	}
	got := kinds(h.events())
	want := []string{"quorum-gained web ", "sorry-off web ", "sorry-on web ", "up web 198.51.100.11:80", "up web 198.51.100.12:80", "up web 198.51.100.13:80"}
	if slices.Sort(got); !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}

	gen := h.m.Configure(1, cfg).Generation
	h.set("198.51.100.12:80", health.Result{Text: "HTTP 503 from 198.51.100.12:80 in 12 ms", Latency: 12 * time.Millisecond})
	h.set("198.51.100.13:80", healthtest.Fail)
	h.tick(time.Second)
	if got := h.verdict(1, cfg, "web", "198.51.100.12:80"); got != in(1) {
		t.Fatalf("down after one failed round of fall 2: %+v", got)
	}
	h.tick(time.Second)
	if got := h.verdict(1, cfg, "web", "198.51.100.12:80"); got != absent {
		t.Errorf("failed server (remove): %+v, want absent", got)
	}
	if got := h.verdict(1, cfg, "web", "198.51.100.13:80"); got != quiesced {
		t.Errorf("failed server (quiesce): %+v, want weight 0", got)
	}
	if h.m.Configure(1, cfg).Generation == gen {
		t.Error("generation unchanged by a health change")
	}
	evs := h.events()
	slices.SortFunc(evs, func(a, b Event) int { return strings.Compare(a.RealServer, b.RealServer) })
	if len(evs) != 2 || evs[0].Kind != "down" || evs[0].Reason != "2 failed checks, last: HTTP 503 from 198.51.100.12:80 in 12 ms" ||
		evs[0].Type != "http" || evs[0].Target != "198.51.100.12:80" {
		t.Errorf("down events: %+v", evs)
	}
	st := h.m.Status()
	rs := st.Services[0].RealServers[1]
	if rs.State != "down" || rs.InTable || rs.Check == nil || rs.Check.LastResult != "HTTP 503 from 198.51.100.12:80 in 12 ms" ||
		rs.Check.LatencyMS != 12 || rs.Check.Flaps != 2 || len(rs.Check.History) != 2 {
		t.Errorf("status of the failed server: %+v %+v", rs, rs.Check)
	}
	if sh, ok := h.m.ServiceHealth("web"); !ok || !sh.Up || sh.UpWeight != 3 || sh.UpServers != 1 || sh.Servers != 3 {
		t.Errorf("service health %+v", sh)
	}
}

// TestAdoptKernelState: at daemon start the servers the kernel has in service
// stay in (no write), others start down; an adopted server leaves only after
// fall failed rounds.
func TestAdoptKernelState(t *testing.T) {
	h := newHarness(t)
	cfg := mustDecode(t, webDoc)
	key := func(s string) ipvs.DestinationKey {
		ap := netip.MustParseAddrPort(s)
		return ipvs.DestinationKey{Addr: ap.Addr(), Port: ap.Port()}
	}
	h.set("198.51.100.11:80", healthtest.Fail)
	h.m.Adopt(map[string]map[ipvs.DestinationKey]int{"web": {
		key("198.51.100.11:80"): 3, // in service: adopted
		key("198.51.100.13:80"): 0, // quiesced (down): not adopted
	}})
	v := h.m.Configure(1, cfg)
	if v.Services["web"].Sorry {
		t.Error("sorry server active although a server is adopted")
	}
	for server, want := range map[string]engine.ServerVerdict{"198.51.100.11:80": in(3), "198.51.100.12:80": absent, "198.51.100.13:80": quiesced} {
		if got := h.verdict(1, cfg, "web", server); got != want {
			t.Errorf("%s at start: %+v, want %+v", server, got, want)
		}
	}
	if st := h.m.Status().Services[0].RealServers[0]; st.State != "up" || st.Check.History[0].Reason != "adopted: in service in the kernel when the daemon started" {
		t.Errorf("adopted status %+v", st.Check)
	}
	h.settle() // first failed round
	if got := h.verdict(1, cfg, "web", "198.51.100.11:80"); got != in(3) {
		t.Fatalf("adopted server out after one failed round: %+v", got)
	}
	h.tick(time.Second)
	if got := h.verdict(1, cfg, "web", "198.51.100.11:80"); got != absent {
		t.Errorf("adopted failing server after fall rounds: %+v", got)
	}
	// A later configuration never adopts again.
	h.m.Adopt(nil)
	h.m.Configure(2, cfg)
	if got := h.verdict(2, cfg, "web", "198.51.100.11:80"); got != absent {
		t.Errorf("after a reload: %+v", got)
	}
}

// TestReloadKeepsStateNeverReenables: a reload keeps the state of unchanged
// checks whatever else changed (weights), never brings back a failed server, and
// a changed check starts down.
func TestReloadKeepsStateNeverReenables(t *testing.T) {
	h := newHarness(t)
	cfg := mustDecode(t, webDoc)
	h.m.Configure(1, cfg)
	h.set("198.51.100.12:80", healthtest.Fail)
	h.settle()
	h.tick(time.Second)
	if got := h.verdict(1, cfg, "web", "198.51.100.11:80"); got != in(3) {
		t.Fatalf("not up: %+v", got)
	}
	built := h.built
	cfg2 := mustDecode(t, webDoc)
	w := 5
	cfg2.VirtualServices[0].RealServers[0].Weight = &w
	cfg2.VirtualServices[0].Scheduler = "rr"
	h.m.Configure(2, cfg2)
	if got := h.verdict(2, cfg2, "web", "198.51.100.11:80"); got != in(5) {
		t.Errorf("up server after a weight change: %+v, want in with weight 5", got)
	}
	if got := h.verdict(2, cfg2, "web", "198.51.100.12:80"); got != absent {
		t.Errorf("failed server re-enabled by a reload: %+v", got)
	}
	if h.built != built {
		t.Errorf("reload with unchanged checks built %d new checkers", h.built-built)
	}
	// A changed check: a new probe, down until rise passes.
	cfg3 := mustDecode(t, webDoc)
	cfg3.VirtualServices[0].HealthCheck.HTTP = &config.HTTPCheck{Path: "/v2"}
	h.m.Configure(3, cfg3)
	if got := h.verdict(3, cfg3, "web", "198.51.100.11:80"); got != absent {
		t.Errorf("changed check: %+v, want absent until rise", got)
	}
	h.settle()
	h.tick(time.Second)
	if got := h.verdict(3, cfg3, "web", "198.51.100.11:80"); got != in(3) {
		t.Errorf("changed check after rise: %+v", got)
	}
	if got := h.verdict(3, cfg3, "web", "198.51.100.12:80"); got != absent {
		t.Errorf("failing server up with a new check: %+v", got)
	}
}

// TestDedupAcrossServices: services sharing a real server and check share one
// probe.
func TestDedupAcrossServices(t *testing.T) {
	h := newHarness(t)
	cfg := mustDecode(t, `{"virtual_services": [
	  {"name": "a", "address": "192.0.2.100", "port": 80, "health_check": {"type": "tcp", "interval": "1s", "target_port": 80}, "real_servers": [{"address": "198.51.100.11"}]},
	  {"name": "b", "address": "192.0.2.101", "port": 80, "health_check": {"type": "tcp", "interval": "1s", "target_port": 80}, "real_servers": [{"address": "198.51.100.11"}]},
	  {"name": "c", "address": "192.0.2.100", "port": 443, "health_check": {"type": "tcp", "interval": "1s", "target_port": 80}, "real_servers": [{"address": "198.51.100.11"}]}
	]}`)
	h.m.Configure(1, cfg)
	h.settle()
	for range 4 {
		h.tick(time.Second)
	}
	st := h.m.Status()
	if st.Probes != 1 || st.CheckedRealServers != 3 || h.built != 1 {
		t.Errorf("%d probes, %d checked, %d checkers; want 1, 3, 1", st.Probes, st.CheckedRealServers, h.built)
	}
	if calls := h.checkers[netip.MustParseAddrPort("198.51.100.11:80")].Calls(); calls != 5 {
		t.Errorf("%d attempts in 5 intervals, want 5", calls)
	}
	for _, svc := range []string{"a", "b", "c"} {
		port := "80"
		if svc == "c" {
			port = "443"
		}
		if got := h.verdict(1, cfg, svc, "198.51.100.11:"+port); got != in(1) {
			t.Errorf("%s: %+v", svc, got)
		}
		if st.Services[0].RealServers[0].Check.SharedBy != 3 {
			t.Errorf("shared_by %d", st.Services[0].RealServers[0].Check.SharedBy)
		}
	}
}

// TestQuorumHysteresisAndTracking: quorum with hysteresis drives the sorry
// server, the VRRP tracking result and the watch channel.
func TestQuorumHysteresisAndTracking(t *testing.T) {
	h := newHarness(t)
	cfg := mustDecode(t, `{"virtual_services": [
	  {"name": "web", "address": "192.0.2.100", "port": 80,
	   "health_check": {"type": "tcp", "interval": "1s", "rise": 1, "fall": 1},
	   "quorum": {"minimum_weight": 2, "hysteresis": 1},
	   "sorry_server": {"address": "198.51.100.99"},
	   "real_servers": [{"address": "198.51.100.11"}, {"address": "198.51.100.12"}, {"address": "198.51.100.13"}]}
	]}`)
	watch, stop := h.m.Watch()
	defer stop()
	h.m.Configure(1, cfg)
	h.settle()
	up := func() bool { sh, _ := h.m.ServiceHealth("web"); return sh.Up }
	if !up() || h.m.Configure(1, cfg).Services["web"].Sorry {
		t.Fatal("3 of 3 up: no quorum")
	}
	select {
	case <-watch:
	default:
		t.Error("no watch notification")
	}
	h.events()
	// 2 up: still >= 2 - 1.
	h.set("198.51.100.11:80", healthtest.Fail)
	h.tick(time.Second)
	if !up() {
		t.Fatal("quorum lost at up weight 2 (minimum 2, hysteresis 1)")
	}
	// 1 up: not below 1... 1 >= 1 holds; 0 up loses it.
	h.set("198.51.100.12:80", healthtest.Fail)
	h.tick(time.Second)
	if !up() {
		t.Fatal("quorum lost at up weight 1 (lost below 1)")
	}
	h.set("198.51.100.13:80", healthtest.Fail)
	h.tick(time.Second)
	v := h.m.Configure(1, cfg).Services["web"]
	if up() || !v.Sorry {
		t.Fatalf("0 up: quorum %v sorry %v", up(), v.Sorry)
	}
	if d, f, ok := h.m.Track("web", 0); !ok || !f || d != 0 {
		t.Errorf("track weight 0 while down: %d %v %v", d, f, ok)
	}
	if d, _, _ := h.m.Track("web", -50); d != -50 {
		t.Errorf("track weight -50 while down: %d", d)
	}
	// Back: 2 up is not enough to regain (needs 2 + 1).
	h.set("198.51.100.11:80", healthtest.Pass)
	h.set("198.51.100.12:80", healthtest.Pass)
	h.tick(time.Second)
	if up() {
		t.Fatal("quorum regained at up weight 2 (needs 3)")
	}
	h.set("198.51.100.13:80", healthtest.Pass)
	h.tick(time.Second)
	if !up() || h.m.Configure(1, cfg).Services["web"].Sorry {
		t.Fatal("quorum not regained at up weight 3")
	}
	got := kinds(h.events())
	want := []string{"down web 198.51.100.11:80", "down web 198.51.100.12:80", "down web 198.51.100.13:80",
		"quorum-lost web ", "sorry-on web ", "up web 198.51.100.11:80", "up web 198.51.100.12:80",
		"up web 198.51.100.13:80", "quorum-gained web ", "sorry-off web "}
	// Observers publish up/down after the state changed, so a service event may
	// come first: compare as sets.
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
	if _, _, ok := h.m.Track("nope", 0); ok {
		t.Error("unknown service tracked")
	}
}

// TestPreview: a dry run sees running probes' states and new servers down, and
// changes nothing.
func TestPreview(t *testing.T) {
	h := newHarness(t)
	cfg := mustDecode(t, webDoc)
	h.m.Configure(1, cfg)
	h.settle()
	h.tick(time.Second)
	gen := h.m.Configure(1, cfg).Generation
	next := mustDecode(t, webDoc)
	next.VirtualServices[0].RealServers = append(next.VirtualServices[0].RealServers, config.RealServer{Address: netip.MustParseAddr("198.51.100.14")})
	p := h.m.Preview(next).Services["web"]
	k := func(s string) ipvs.DestinationKey { return ipvs.DestinationKey{Addr: netip.MustParseAddr(s), Port: 80} }
	if p.Servers[k("198.51.100.11")] != in(3) || p.Servers[k("198.51.100.14")] != absent || p.Sorry {
		t.Errorf("preview %+v", p)
	}
	if v := h.m.Configure(1, cfg); v.Generation != gen || len(v.Services["web"].Servers) != 3 {
		t.Errorf("preview changed the applied state: %+v", v)
	}
	if st := h.m.Status(); st.Probes != 3 {
		t.Errorf("preview created probes: %d", st.Probes)
	}
}

// TestBrokenCheckStaysOut: a check that cannot run keeps its server out and
// says why, without stopping the other checks.
func TestBrokenCheckStaysOut(t *testing.T) {
	m := New(Options{Log: quiet, Scheduler: scheduler.Config{Clock: healthtest.NewClock(t0), Rand: healthtest.FixedRand{}, Workers: 2}})
	cfg := mustDecode(t, `{"virtual_services": [
	  {"name": "marked", "fwmark": 7, "health_check": {"type": "tcp"}, "real_servers": [{"address": "198.51.100.11"}]},
	  {"name": "web", "address": "192.0.2.100", "port": 80, "real_servers": [{"address": "198.51.100.12"}]}
	]}`)
	v := m.Configure(1, cfg)
	if sv := v.Services["marked"].Servers[ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.11")}]; sv.Present {
		t.Errorf("server with an impossible check in service: %+v", sv)
	}
	if sv := v.Services["web"].Servers[ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.12"), Port: 80}]; sv != in(1) {
		t.Errorf("unchecked server: %+v", sv)
	}
	st := m.Status()
	if st.Error != "" || st.Probes != 1 || st.Services[0].RealServers[0].State != "pending" {
		t.Errorf("status %+v", st)
	}
	// Its first attempt fails with the reason.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for {
		rs := m.Status().Services[0].RealServers[0]
		if rs.Check != nil && rs.Check.LastCheck != nil {
			if rs.Check.LastResult != "check cannot run: health: tcp check of 198.51.100.11: no target port" {
				t.Errorf("last result %q", rs.Check.LastResult)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt")
		}
		time.Sleep(time.Millisecond)
	}
}
