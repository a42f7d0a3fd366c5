package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvstest"
	"github.com/lvsbox/lvsbox/appliance/netcfg"
	"github.com/lvsbox/lvsbox/appliance/netcfg/netcfgtest"
	"github.com/lvsbox/lvsbox/appliance/store"
)

const draft = `{
  "system": {"hostname": "lb1"},
  "interfaces": [
    {"name": "eth0", "addresses": ["192.0.2.2/24", "192.0.2.100/32"]},
    {"name": "eth1", "addresses": ["198.51.100.1/24"]}
  ],
  "routes": [{"destination": "0.0.0.0/0", "gateway": "192.0.2.1"}],
  "virtual_services": [
    {"name": "web", "protocol": "tcp", "address": "192.0.2.100", "port": 80,
     "scheduler": "wrr", "forwarding": "nat",
     "real_servers": [
       {"address": "198.51.100.11", "port": 80, "weight": 3},
       {"address": "198.51.100.12", "port": 80, "weight": 1}
     ]},
    {"name": "dns", "protocol": "udp", "address": "192.0.2.100", "port": 53,
     "real_servers": [{"address": "192.0.2.53"}]}
  ]
}`

// memStore is a Source holding revisions in memory.
type memStore struct {
	mu   sync.Mutex
	revs []store.Revision
	err  error
}

func (m *memStore) commit(t *testing.T, doc string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	cfg, err := config.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	m.revs = append(m.revs, store.Revision{RevisionInfo: store.RevisionInfo{Number: uint64(len(m.revs) + 1), Comment: "test"}, Config: cfg})
}

func (m *memStore) Current() (store.Revision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return store.Revision{}, m.err
	}
	if len(m.revs) == 0 {
		return store.Revision{}, nil
	}
	return m.revs[len(m.revs)-1], nil
}

// box is a fake machine: kernel IPVS, host network, sysctls, hostname and run dir.
// It survives daemon "restarts" (new Engines).
type box struct {
	kernel *ipvstest.Fake
	host   *netcfgtest.Host
	sysctl *memSysctl
	uts    *netcfgtest.UTS
	run    string
	store  *memStore
	noIPVS error
	opened int
	logs   bytes.Buffer
	logsMu sync.Mutex
}

func newBox(t *testing.T) *box {
	return &box{
		kernel: ipvstest.New(),
		host:   netcfgtest.NewHost("eth0", "eth1"),
		sysctl: newMemSysctl(),
		uts:    &netcfgtest.UTS{Name: "lvsbox"},
		run:    t.TempDir(),
		store:  &memStore{},
	}
}

type syncWriter struct{ b *box }

func (w syncWriter) Write(p []byte) (int, error) {
	w.b.logsMu.Lock()
	defer w.b.logsMu.Unlock()
	return w.b.logs.Write(p)
}

func (b *box) log() string {
	b.logsMu.Lock()
	defer b.logsMu.Unlock()
	return b.logs.String()
}

// daemon starts a new Engine (a fresh daemon process) on the box.
func (b *box) daemon() *Engine {
	return New(Options{
		Store: b.store,
		OpenIPVS: func() (ipvs.Kernel, error) {
			if b.noIPVS != nil {
				return nil, b.noIPVS
			}
			b.opened++
			return b.kernel, nil
		},
		Net:    &netcfg.Reconciler{Host: b.host, UTS: b.uts, RunDir: b.run},
		Sysctl: b.sysctl,
		Resync: 10 * time.Millisecond,
		Log:    slog.New(slog.NewTextHandler(syncWriter{b}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
}

func pass(t *testing.T, e *Engine) PassResult {
	t.Helper()
	return e.Pass(context.Background())
}

func TestFirstPassAppliesAndIsReady(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	e := b.daemon()
	res := pass(t, e)
	if len(res.Errors) != 0 || !res.IPVSUp {
		t.Fatalf("errors: %v", res.Errors)
	}
	// hostname, 2 links up, 3 addresses, 1 route; 2 services, 3 reals; the sysctls
	if res.Writes != 12+len(res.TuneOps) || len(res.TuneOps) != len(b.sysctl.writes()) || len(res.TuneOps) == 0 {
		t.Fatalf("writes = %d (%v %v %v)", res.Writes, res.NetOps, res.IPVSOps, res.TuneOps)
	}
	if n := strings.Count(b.log(), ReadyMessage); n != 1 {
		t.Fatalf("%q logged %d times:\n%s", ReadyMessage, n, b.log())
	}
	st := e.Status()
	if !st.Ready || st.Revision == nil || st.Revision.Number != 1 || st.ConfigHostname != "lb1" || !st.IPVS.Available {
		t.Fatalf("status = %+v", st)
	}
	if len(st.IPVS.Services) != 2 || st.IPVS.Services[0].Name != "dns" || st.IPVS.Services[1].Name != "web" ||
		len(st.IPVS.Services[1].Destinations) != 2 || st.IPVS.Services[1].Destinations[0].Weight != 3 {
		t.Fatalf("ipvs status = %+v", st.IPVS)
	}
	if b.uts.Name != "lb1" || b.sysctl.value("net.ipv4.ip_forward") != "1" {
		t.Fatal("host settings not applied")
	}

	res = pass(t, e)
	if res.Writes != 0 || res.Drift {
		t.Fatalf("second pass: %+v", res)
	}
	if n := strings.Count(b.log(), ReadyMessage); n != 1 {
		t.Fatalf("ready logged again on a later pass")
	}
}

func TestRestartAdoptsWithZeroWrites(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	pass(t, b.daemon())
	b.kernel.ResetWrites()
	b.host.ResetWrites()

	e := b.daemon() // the restarted process
	res := pass(t, e)
	if res.Writes != 0 || len(b.kernel.Writes()) != 0 || len(b.host.Writes()) != 0 || len(res.Errors) != 0 {
		t.Fatalf("restart wrote: %d %q %q %v", res.Writes, b.kernel.Writes(), b.host.Writes(), res.Errors)
	}
	if n := strings.Count(b.log(), ReadyMessage); n != 2 {
		t.Fatalf("ready not logged by the restarted daemon (%d)", n)
	}
	if !e.Status().Ready {
		t.Fatal("restarted daemon not ready")
	}
}

func TestDriftIsRepairedAndReported(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	e := b.daemon()
	pass(t, e)
	b.kernel.Flush() // ipvsadm -C
	b.host.RemoveAddress("eth0", netip.MustParsePrefix("192.0.2.100/32"))
	res := pass(t, e)
	if !res.Drift || res.Writes != 6 || len(res.Errors) != 0 {
		t.Fatalf("drift pass: %+v", res)
	}
	log := b.log()
	for _, want := range []string{"level=WARN", "drift repaired", "add service tcp/192.0.2.100:80", "add address 192.0.2.100/32 on eth0"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if res := pass(t, e); res.Writes != 0 {
		t.Fatalf("not converged after repair: %+v", res)
	}
}

func TestConfigChangeIsNotDrift(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	e := b.daemon()
	pass(t, e)
	b.kernel.ResetWrites()
	b.store.commit(t, strings.Replace(draft, `"weight": 3`, `"weight": 5`, 1))
	res := pass(t, e)
	if res.Drift || res.Revision != 2 || res.Writes != 1 {
		t.Fatalf("config change pass: %+v", res)
	}
	if w := b.kernel.Writes(); len(w) != 1 || !strings.HasPrefix(w[0], "update destination") {
		t.Fatalf("kernel writes = %q", w)
	}
	if strings.Contains(b.log(), "drift") {
		t.Fatalf("config change reported as drift:\n%s", b.log())
	}
}

func TestIPVSUnavailableKeepsRetrying(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	b.noIPVS = errors.New("ipvs: IPVS is not available in this kernel")
	e := b.daemon()
	for range 3 {
		res := pass(t, e)
		if res.IPVSUp || len(res.Errors) != 1 {
			t.Fatalf("pass without IPVS: %+v", res)
		}
	}
	st := e.Status()
	if st.Ready || st.IPVS.Available || !strings.Contains(st.IPVS.Error, "not available") || st.Revision.Number != 1 {
		t.Fatalf("status = %+v", st)
	}
	if n := strings.Count(b.log(), "not available"); n != 1 {
		t.Fatalf("unavailable error logged %d times, want once:\n%s", n, b.log())
	}
	if strings.Contains(b.log(), ReadyMessage) {
		t.Fatal("ready logged without IPVS")
	}
	// The host side was still applied.
	if b.uts.Name != "lb1" {
		t.Fatal("host network not applied while IPVS was missing")
	}
	b.noIPVS = nil // ip_vs loaded
	res := pass(t, e)
	// 2 services, 3 reals, and the net.ipv4.vs.* sysctls that waited for ip_vs.
	if !res.IPVSUp || res.Writes != 5+len(res.TuneOps) || !e.Status().Ready {
		t.Fatalf("after IPVS appeared: %+v", res)
	}
	for _, op := range res.TuneOps {
		if !strings.HasPrefix(op, "sysctl net.ipv4.vs.") {
			t.Errorf("unexpected tuning write once IPVS appeared: %s", op)
		}
	}
	if res.Drift || strings.Contains(b.log(), "drift") {
		t.Fatalf("the first apply after IPVS appeared was reported as drift: %+v", res)
	}
	if !strings.Contains(b.log(), "reconcile problem resolved") || !strings.Contains(b.log(), ReadyMessage) {
		t.Fatalf("log:\n%s", b.log())
	}
}

func TestKernelErrorReopens(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	e := b.daemon()
	pass(t, e)
	b.kernel.SetUnavailable(errors.New("netlink: socket closed"))
	if res := pass(t, e); res.IPVSUp || len(res.Errors) != 1 {
		t.Fatalf("pass with failing kernel: %+v", res)
	}
	b.kernel.SetUnavailable(nil)
	pass(t, e)
	if b.opened != 2 {
		t.Fatalf("kernel opened %d times, want a reopen after the failure", b.opened)
	}
}

func TestStoreErrorAppliesNothing(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	b.store.err = errors.New("disk on fire")
	e := b.daemon()
	res := pass(t, e)
	if res.Writes != 0 || len(b.kernel.Writes()) != 0 || len(b.host.Writes()) != 0 || len(res.Errors) != 1 {
		t.Fatalf("pass with unreadable store: %+v", res)
	}
	if e.Status().Ready {
		t.Fatal("ready without a config")
	}
}

func TestEmptyStoreIsEmptyConfig(t *testing.T) {
	b := newBox(t)
	e := b.daemon()
	res := pass(t, e)
	if res.Writes != 0 || len(res.Errors) != 0 || !res.IPVSUp {
		t.Fatalf("pass on empty store: %+v", res)
	}
	if st := e.Status(); !st.Ready || st.Revision != nil {
		t.Fatalf("status = %+v", st)
	}
}

func TestRunStopsOnCancelWithoutTouchingKernel(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, draft)
	e := b.daemon()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for e.Status().Passes < 3 {
		if time.Now().After(deadline) {
			t.Fatal("engine did not pass 3 times")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if s, ok := b.kernel.Get(ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("192.0.2.100"), 80)); !ok || len(s.Destinations) != 2 {
		t.Fatalf("kernel state changed on shutdown: %+v", s)
	}
}
