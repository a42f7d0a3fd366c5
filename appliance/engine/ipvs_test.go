package engine

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/events"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

const fullModel = `{
  "interfaces": [{"name": "eth0", "addresses": ["192.0.2.2/24"]}, {"name": "eth1", "addresses": ["198.51.100.1/24"]}],
  "ipvs": {"timeouts": {"tcp": "1h", "tcp_fin": "30s", "udp": "1m"},
           "sync_daemon": {"enabled": true, "interface": "eth1", "sync_id": 7}},
  "virtual_services": [
    {"name": "sh", "address": "192.0.2.100", "port": 443, "scheduler": "sh", "scheduler_flags": ["sh-fallback", "sh-port"],
     "persistence": {"timeout": "300s", "netmask": "255.255.255.0"}, "forwarding": "dr",
     "real_servers": [{"address": "192.0.2.11", "upper_threshold": 100, "lower_threshold": 50},
                      {"address": "192.0.2.12", "admin_state": "drain"},
                      {"address": "192.0.2.13", "admin_state": "disabled"}]},
    {"name": "dns", "protocol": "udp", "address": "192.0.2.100", "port": 53, "one_packet": true, "scheduler": "mh",
     "scheduler_flags": ["mh-port"], "forwarding": "tun", "tunnel": {"type": "gue", "port": 6080},
     "real_servers": [{"address": "198.51.100.21"}, {"address": "198.51.100.22", "tunnel": {"type": "gre"}}]},
    {"name": "v6", "address": "2001:db8::100", "port": 80, "scheduler": "rr", "forwarding": "nat",
     "persistence": {"timeout": "60s", "prefix_length": 64},
     "real_servers": [{"address": "2001:db8:1::11", "port": 8080, "weight": 4}]},
    {"name": "mark", "fwmark": 42, "family": "ipv6", "real_servers": [{"address": "2001:db8::31"}]}
  ]
}`

func TestCompileFullModel(t *testing.T) {
	c := mustConfig(t, fullModel)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := Compile(c)
	byName := map[string]ipvs.ServiceState{}
	for _, s := range d.IPVS {
		byName[d.Names[s.Key]] = s
	}
	sh := byName["sh"]
	if sh.Flags != ipvs.FlagPersistent|ipvs.FlagSched1|ipvs.FlagSched2 || sh.Timeout != 300 || sh.Netmask != 24 || sh.Scheduler != "sh" {
		t.Errorf("sh service = %+v", sh.Service)
	}
	if len(sh.Destinations) != 2 || sh.Destinations[0].UpperThreshold != 100 || sh.Destinations[0].LowerThreshold != 50 ||
		sh.Destinations[1].Weight != 0 || sh.Destinations[0].Forwarding != ipvs.DirectRoute {
		t.Errorf("sh destinations = %+v", sh.Destinations)
	}
	if p := d.Paths[sh.Key]; p.Service != "virtual_services[sh]" || p.Dests[dk("192.0.2.12:443")] != "virtual_services[sh].real_servers[1]" || len(p.Dests) != 2 {
		t.Errorf("paths = %+v", p)
	}
	dns := byName["dns"]
	if dns.Key.Protocol != ipvs.UDP || dns.Flags != ipvs.FlagOnePacket|ipvs.FlagSched2 || dns.Netmask != 32 || dns.Timeout != 0 {
		t.Errorf("dns service = %+v", dns.Service)
	}
	gue, gre := dns.Destinations[0], dns.Destinations[1]
	if gue.Forwarding != ipvs.Tunnel || gue.TunnelType != ipvs.TunnelGUE || gue.TunnelPort != 6080 || gre.TunnelType != ipvs.TunnelGRE || gre.TunnelPort != 0 {
		t.Errorf("tunnels = %+v / %+v", gue, gre)
	}
	v6 := byName["v6"]
	if v6.Netmask != 64 || v6.Timeout != 60 || v6.Flags != ipvs.FlagPersistent || v6.Destinations[0].Key != dk("[2001:db8:1::11]:8080") || v6.Destinations[0].Weight != 4 {
		t.Errorf("v6 = %+v", v6)
	}
	if m := byName["mark"]; m.Key != ipvs.MarkKey(6, 42) || m.Netmask != 128 || m.Destinations[0].Key.Port != 0 {
		t.Errorf("mark = %+v", m)
	}
	g := d.IPVSGlobals
	if g.Timeouts != (ipvs.Timeouts{TCP: time.Hour, TCPFin: 30 * time.Second, UDP: time.Minute}) || len(g.SyncDaemons) != 2 ||
		g.SyncDaemons[0].State != ipvs.SyncMaster || g.SyncDaemons[1].State != ipvs.SyncBackup ||
		g.SyncDaemons[1].Interface != "eth1" || g.SyncDaemons[1].SyncID != 7 || g.SyncDaemons[1].Port != 8848 || g.SyncDaemons[1].Group != netip.MustParseAddr("224.0.0.81") {
		t.Errorf("globals = %+v", g)
	}
	if d.DrainTime != 30*time.Second {
		t.Errorf("drain time %v", d.DrainTime)
	}
	if forwardSysctls(t, d) != "net.ipv6.conf.all.forwarding" {
		t.Errorf("forwarding = %q", forwardSysctls(t, d))
	}
	if bits, ok := maskBits(netip.MustParseAddr("255.255.0.255")); ok {
		t.Errorf("non-contiguous mask accepted: %d", bits)
	}
}

// clock is an injectable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is a Publisher keeping the events.
type recorder struct {
	mu  sync.Mutex
	evs []string
}

func (r *recorder) Publish(typ string, v any) (events.Event, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := typ
	if d, ok := v.(DriftEvent); ok {
		s += ": " + strings.Join(d.Repaired, "; ")
	}
	r.evs = append(r.evs, s)
	return events.Event{}, nil
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs)
}

func tunedDaemon(b *box, clk *clock, ev *recorder) *Engine {
	e := b.daemon()
	e.o.Now = clk.now
	e.o.Events = ev
	return e
}

func TestGlobalsAppliedOnceRepairedAndChanged(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, fullModel)
	clk, ev := &clock{t: time.Unix(1e9, 0)}, &recorder{}
	e := tunedDaemon(b, clk, ev)
	res := pass(t, e)
	want := []string{"set timeouts 1h0m0s/30s/1m0s", "start sync daemon master eth1 7", "start sync daemon backup eth1 7"}
	var got []string
	for _, w := range b.kernel.Writes() {
		if !strings.Contains(w, "service") && !strings.Contains(w, "destination") {
			got = append(got, w)
		}
	}
	if !slices.Equal(got, want) || len(res.Errors) != 0 {
		t.Fatalf("global writes = %q, errors %v", got, res.Errors)
	}
	st := e.Status().IPVS.Globals
	if st == nil || st.Version != "1.2.1" || *st.Timeouts != (TimeoutsStatus{3600, 30, 60}) || len(st.SyncDaemons) != 2 || st.SyncDaemons[0].State != "master" {
		t.Fatalf("globals status = %+v", st)
	}
	b.kernel.ResetWrites()
	if res := pass(t, b.daemon()); res.Writes != 0 || len(b.kernel.Writes()) != 0 {
		t.Fatalf("restart wrote %q", b.kernel.Writes())
	}

	// Drift: a daemon stopped behind lvsbox's back is started again, with an event.
	b.kernel.StopSyncDaemon(context.Background(), ipvs.SyncBackup)
	b.kernel.ResetWrites()
	if res := pass(t, e); !res.Drift || !slices.Equal(b.kernel.Writes(), []string{"start sync daemon backup eth1 7"}) {
		t.Fatalf("drift pass: %+v %q", res, b.kernel.Writes())
	}
	if evs := ev.all(); len(evs) != 1 || !strings.Contains(evs[0], "start backup sync daemon on eth1") {
		t.Fatalf("events = %q", evs)
	}

	// A new sync id restarts both; disabling stops both.
	b.store.commit(t, strings.Replace(fullModel, `"sync_id": 7`, `"sync_id": 8`, 1))
	b.kernel.ResetWrites()
	pass(t, e)
	if w := b.kernel.Writes(); !slices.Equal(w, []string{"stop sync daemon master", "start sync daemon master eth1 8", "stop sync daemon backup", "start sync daemon backup eth1 8"}) {
		t.Fatalf("sync id change = %q", w)
	}
	b.store.commit(t, strings.Replace(fullModel, `"enabled": true`, `"enabled": false`, 1))
	b.kernel.ResetWrites()
	pass(t, e)
	if w := b.kernel.Writes(); len(w) != 2 || !slices.Contains(w, "stop sync daemon master") || !slices.Contains(w, "stop sync daemon backup") {
		t.Fatalf("disable = %q", w)
	}
}

const drainDoc = `{"ipvs": {"drain_time": "30s"}, "virtual_services": [
  {"name": "web", "address": "192.0.2.100", "port": 80, "forwarding": "dr",
   "real_servers": [{"address": "192.0.2.11", "weight": 3}, {"address": "192.0.2.12", "weight": 2}]}]}`

func TestRemovedRealServerDrainsThenGoes(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, drainDoc)
	clk, ev := &clock{t: time.Unix(1e9, 0)}, &recorder{}
	e := tunedDaemon(b, clk, ev)
	pass(t, e)
	web := ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("192.0.2.100"), 80)

	b.store.commit(t, strings.Replace(drainDoc, `, {"address": "192.0.2.12", "weight": 2}`, ``, 1))
	b.kernel.ResetWrites()
	res := pass(t, e)
	if w := b.kernel.Writes(); !slices.Equal(w, []string{"update destination tcp/192.0.2.100:80 192.0.2.12:80"}) || res.Drift {
		t.Fatalf("removal wrote %q (drift %v)", w, res.Drift)
	}
	s, _ := b.kernel.Get(web)
	if len(s.Destinations) != 2 || s.Destinations[1].Weight != 0 {
		t.Fatalf("kernel = %v", dests(s))
	}
	rs := e.Status().IPVS.Services[0].Destinations[1]
	if rs.DrainingUntil == nil || !rs.DrainingUntil.Equal(clk.now().Add(30*time.Second)) || rs.Weight != 0 {
		t.Fatalf("status of the draining server = %+v", rs)
	}

	clk.add(29 * time.Second)
	b.kernel.ResetWrites()
	if pass(t, e); len(b.kernel.Writes()) != 0 {
		t.Fatalf("wrote before the drain time: %q", b.kernel.Writes())
	}
	if dl := e.draining.nextDeadline(); !dl.Equal(clk.now().Add(time.Second)) {
		t.Fatalf("next deadline %v", dl)
	}
	clk.add(time.Second)
	res = e.pass(context.Background(), false) // the drain timer's pass
	if w := b.kernel.Writes(); !slices.Equal(w, []string{"delete destination tcp/192.0.2.100:80 192.0.2.12:80"}) || res.Drift || !res.Incremental {
		t.Fatalf("after the drain time: %q %+v", w, res)
	}
	if len(e.draining) != 0 || len(ev.all()) != 0 {
		t.Fatalf("draining %v, events %q", e.draining, ev.all())
	}
	if res := pass(t, e); res.Writes != 0 {
		t.Fatalf("not converged: %+v", res)
	}

	// Re-adding during a drain restores the weight; drain_time 0 removes at once.
	b.store.commit(t, drainDoc)
	pass(t, e)
	b.store.commit(t, strings.Replace(drainDoc, `, {"address": "192.0.2.12", "weight": 2}`, ``, 1))
	pass(t, e)
	b.store.commit(t, drainDoc)
	b.kernel.ResetWrites()
	pass(t, e)
	if w := b.kernel.Writes(); !slices.Equal(w, []string{"update destination tcp/192.0.2.100:80 192.0.2.12:80"}) || len(e.draining) != 0 {
		t.Fatalf("re-added during the drain: %q %v", w, e.draining)
	}
	now := strings.Replace(strings.Replace(drainDoc, `"30s"`, `"0s"`, 1), `, {"address": "192.0.2.12", "weight": 2}`, ``, 1)
	b.store.commit(t, now)
	b.kernel.ResetWrites()
	pass(t, e)
	if w := b.kernel.Writes(); !slices.Equal(w, []string{"delete destination tcp/192.0.2.100:80 192.0.2.12:80"}) {
		t.Fatalf("drain_time 0: %q", w)
	}
}

func TestHealthRemovalIsNotDrained(t *testing.T) {
	cfg := mustConfig(t, drainDoc)
	d := Compile(cfg)
	observed := slices.Clone(d.IPVS)
	d.ApplyHealth(Verdicts{Services: map[string]ServiceVerdict{"web": {Servers: map[ipvs.DestinationKey]ServerVerdict{dk("192.0.2.12:80"): {}}}}})
	out, next := applyDrain(d.IPVS, d, observed, drainSet{}, time.Unix(0, 0), time.Minute)
	if got := dests(out[0]); !slices.Equal(got, []string{"192.0.2.11:80/3"}) || len(next) != 0 {
		t.Fatalf("health-removed server kept: %v %v", got, next)
	}
}

func TestIncrementalPassTouchesOnlyChangedServices(t *testing.T) {
	b := newBox(t)
	var doc strings.Builder
	doc.WriteString(`{"virtual_services": [`)
	for i := range 50 {
		if i > 0 {
			doc.WriteString(",")
		}
		doc.WriteString(`{"name": "s` + itoa(i) + `", "address": "192.0.2.100", "port": ` + itoa(1000+i) + `, "real_servers": [{"address": "192.0.2.11"}]}`)
	}
	doc.WriteString(`]}`)
	b.store.commit(t, doc.String())
	e := b.daemon()
	pass(t, e)
	lists := b.kernel.Lists()
	b.kernel.ResetWrites()

	b.store.commit(t, strings.Replace(doc.String(), `"port": 1007, "real_servers": [{"address": "192.0.2.11"}]`, `"port": 1007, "real_servers": [{"address": "192.0.2.11", "weight": 9}]`, 1))
	res := e.pass(context.Background(), false)
	if !res.Incremental || res.Writes != 1 || len(b.kernel.Writes()) != 1 || b.kernel.Lists() != lists {
		t.Fatalf("incremental: %+v writes %q lists %d->%d", res, b.kernel.Writes(), lists, b.kernel.Lists())
	}
	// Nothing changed: an incremental pass reads and writes nothing.
	if res := e.pass(context.Background(), false); res.Writes != 0 || b.kernel.Lists() != lists {
		t.Fatalf("no-op incremental: %+v", res)
	}
	if st := e.Status(); len(st.IPVS.Services) != 50 || st.IPVS.Services[7].Destinations[0].Weight != 9 {
		t.Fatalf("status after the incremental pass: %d services", len(st.IPVS.Services))
	}
	// Drift is not seen by incremental passes, but by the next full one.
	b.kernel.Flush()
	if res := e.pass(context.Background(), false); res.Writes != 0 {
		t.Fatalf("incremental pass repaired drift: %+v", res)
	}
	if res := pass(t, e); !res.Drift || res.Writes != 100 {
		t.Fatalf("full pass after flush: writes %d drift %v", res.Writes, res.Drift)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestKernelErrorsNameTheConfigPath(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, fullModel)
	b.kernel.FailWith(func(op string, k ipvs.ServiceKey) error {
		if op == "add destination" && k.Port == 53 {
			return syscall.EINVAL
		}
		if op == "add service" && k.FWMark == 42 {
			return syscall.ENOENT
		}
		return nil
	})
	e := b.daemon()
	res := pass(t, e)
	var paths []string
	for _, p := range res.Problems {
		paths = append(paths, p.Path)
	}
	want := []string{"virtual_services[dns].real_servers[0]", "virtual_services[dns].real_servers[1]", "virtual_services[mark]", "virtual_services[mark].real_servers[0]"}
	slices.Sort(paths)
	if !slices.Equal(paths, want) {
		t.Fatalf("problem paths = %q\n%v", paths, res.Errors)
	}
	if !slices.ContainsFunc(res.Errors, func(s string) bool {
		return strings.HasPrefix(s, "virtual_services[dns].real_servers[1]: ipvs: add destination 198.51.100.22:53") && strings.HasSuffix(s, "invalid argument")
	}) {
		t.Fatalf("errors = %q", res.Errors)
	}
	if s, ok := b.kernel.Get(ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("192.0.2.100"), 443)); !ok || len(s.Destinations) != 2 {
		t.Fatal("the other services were not applied")
	}
	if st := e.Status(); len(st.IPVS.Problems) != 4 || !strings.Contains(b.log(), "virtual_services[mark]: ipvs: add service fwmark/42/ipv6") {
		t.Fatalf("status problems %+v\n%s", st.IPVS.Problems, b.log())
	}
	// The failed services are retried by the next incremental pass; once the kernel
	// accepts them the problems go away.
	b.kernel.FailWith(nil)
	if res := e.pass(context.Background(), false); len(res.Errors) != 0 || res.Writes != 4 {
		t.Fatalf("retry: %+v", res)
	}
}

func TestUnavailableIPVSLeavesVSSysctlsPending(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	b.noIPVS = errors.New("ipvs: IPVS is not available in this kernel")
	e := b.daemon()
	pass(t, e)
	var pending, applied int
	for _, s := range e.Status().Sysctls {
		switch {
		case strings.HasPrefix(s.Key, "net.ipv4.vs."):
			if s.OK || !strings.Contains(s.Error, "waiting for IPVS") {
				t.Errorf("%s = %+v", s.Key, s)
			}
			pending++
		case s.OK && s.Reason != "":
			applied++
		}
	}
	if pending != 7 || applied == 0 || b.sysctl.value("net.ipv4.vs.expire_nodest_conn") != "0" || b.sysctl.value("net.ipv4.ip_forward") != "1" {
		t.Fatalf("pending %d applied %d: %+v", pending, applied, e.Status().Sysctls)
	}
}

func TestSysctlDriftRepairedWithEvent(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	clk, ev := &clock{t: time.Unix(1e9, 0)}, &recorder{}
	e := tunedDaemon(b, clk, ev)
	pass(t, e)
	b.sysctl.reset()
	if res := pass(t, b.daemon()); res.Writes != 0 || len(b.sysctl.writes()) != 0 {
		t.Fatalf("restart rewrote sysctls: %q", b.sysctl.writes())
	}
	b.sysctl.set("net.ipv4.conf.eth0.rp_filter", "1")
	res := pass(t, e)
	if !res.Drift || !slices.Equal(b.sysctl.writes(), []string{"net.ipv4.conf.eth0.rp_filter=2"}) {
		t.Fatalf("drift pass %+v, writes %q", res, b.sysctl.writes())
	}
	if evs := ev.all(); len(evs) != 1 || !strings.Contains(evs[0], "sysctl net.ipv4.conf.eth0.rp_filter 1 -> 2") {
		t.Fatalf("events %q", evs)
	}
	if !strings.Contains(b.log(), "drift repaired") {
		t.Fatal("no WARN log")
	}
	var rp SysctlStatus
	for _, s := range e.Status().Sysctls {
		if s.Key == "net.ipv4.conf.eth0.rp_filter" {
			rp = s
		}
	}
	if !rp.OK || rp.Actual != "2" || !strings.Contains(rp.Reason, "loose reverse-path filtering") || rp.Source != "lvsbox" {
		t.Fatalf("rp_filter status = %+v", rp)
	}
}

func TestRunKickIsIncremental(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	e := b.daemon()
	e.o.Resync = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitPasses := func(n int) {
		deadline := time.Now().Add(10 * time.Second)
		for e.Status().Passes < n {
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d passes", n)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitPasses(1)
	lists := b.kernel.Lists()
	b.store.commit(t, strings.Replace(draft, `"weight": 3`, `"weight": 7`, 1))
	e.Kick()
	waitPasses(2)
	s, _ := b.kernel.Get(ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("192.0.2.100"), 80))
	if b.kernel.Lists() != lists || !slices.Contains(dests(s), "198.51.100.11:80/7") {
		t.Fatalf("kicked pass: lists %d->%d, %v", lists, b.kernel.Lists(), dests(s))
	}
}

func TestKernelCheck(t *testing.T) {
	feats := ipvs.Features{Present: true, Schedulers: []string{"rr", "wlc"}, TunnelTypes: []ipvs.TunnelType{ipvs.TunnelIPIP}}
	fs := newMemSysctl()
	fs.missing["net.ipv4.conf.eth9.rp_filter"] = true
	k := KernelCheck{Features: func() ipvs.Features { return feats }, Sysctl: fs}
	cfg := mustConfig(t, `{"sysctls": {"net.ipv4.conf.eth9.rp_filter": "0", "net.core.somaxconn": "4096"},
	  "virtual_services": [
	    {"name": "a", "address": "192.0.2.100", "port": 80, "scheduler": "mh", "real_servers": [{"address": "192.0.2.11"}]},
	    {"name": "b", "address": "192.0.2.100", "port": 81, "forwarding": "tun", "tunnel": {"type": "gre"}, "real_servers": [{"address": "192.0.2.11"}]}]}`)
	var errs config.Errors
	if !errors.As(k.Check(cfg), &errs) || len(errs) != 3 {
		t.Fatalf("check = %v", k.Check(cfg))
	}
	got := errs.Error()
	for _, want := range []string{"virtual_services[a].scheduler: the running kernel does not offer the mh scheduler", "virtual_services[b].tunnel", "sysctls[net.ipv4.conf.eth9.rp_filter]: the running kernel has no such sysctl"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %s", want, got)
		}
	}
	// Without IPVS nothing kernel-side is checked, and vs keys are not looked up.
	feats = ipvs.Features{}
	fs.missing["net.ipv4.vs.conntrack"] = true
	cfg.Sysctls = map[string]string{"net.ipv4.vs.conntrack": "1"}
	if err := k.Check(cfg); err != nil {
		t.Fatalf("without IPVS: %v", err)
	}
}

func TestRealServerScript(t *testing.T) {
	cfg := mustConfig(t, `{"system": {"hostname": "lb1"}, "virtual_services": [
	  {"name": "web", "address": "192.0.2.100", "port": 80, "forwarding": "dr", "real_servers": [{"address": "192.0.2.11"}, {"address": "192.0.2.12", "forwarding": "tun"}]},
	  {"name": "nat", "address": "192.0.2.100", "port": 81, "forwarding": "nat", "real_servers": [{"address": "198.51.100.11"}]}]}`)
	text, err := RealServerScript(cfg, "lb1", "web")
	if err != nil || !strings.Contains(text, "arp_ignore") || !strings.Contains(text, "tunl0") || !strings.Contains(text, "# ===== lvsbox-rs-web-dr.sh") {
		t.Fatalf("web script (%v):\n%s", err, text)
	}
	if _, err := RealServerScript(cfg, "lb1", "nat"); err == nil || !strings.Contains(err.Error(), "no DR or TUN") {
		t.Fatalf("nat: %v", err)
	}
	if _, err := RealServerScript(cfg, "lb1", "nosuch"); err == nil {
		t.Fatal("unknown service: no error")
	}
}

func TestMetricsSourceNamesServices(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	e := b.daemon()
	pass(t, e)
	src := e.MetricsSource(func() (ipvs.Kernel, error) { return b.kernel, nil })
	snap, err := src(context.Background())
	if err != nil || len(snap.Services) != 2 || len(snap.Names) != 2 {
		t.Fatalf("snapshot %+v, %v", snap, err)
	}
	b.kernel.SetUnavailable(errors.New("gone"))
	if _, err := src(context.Background()); err == nil {
		t.Fatal("no error from an unavailable kernel")
	}
}

func TestDriftReportedDespiteAPersistentError(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, fullModel)
	b.kernel.FailWith(func(op string, k ipvs.ServiceKey) error {
		if op == "add service" && k.FWMark == 42 {
			return syscall.ENOENT
		}
		return nil
	})
	e := b.daemon()
	pass(t, e)
	if res := pass(t, e); res.Drift || len(res.Errors) != 2 {
		t.Fatalf("retry of the failing service reported as drift: %+v", res)
	}
	b.kernel.Flush()
	if res := pass(t, e); !res.Drift {
		t.Fatalf("flush not reported as drift while another service fails: %+v", res)
	}
}
