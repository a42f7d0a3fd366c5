package node

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip/viptest"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet/vrnettest"
)

// fakeLinks is a LinkSource driven by the test.
type fakeLinks struct {
	mu    sync.Mutex
	facts Facts
	ch    chan Facts
}

func (f *fakeLinks) Watch(ctx context.Context, update func(Facts)) error {
	f.mu.Lock()
	update(f.facts)
	f.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil
		case fa := <-f.ch:
			update(fa)
		}
	}
}

// set changes one interface and publishes the facts.
func (f *fakeLinks) set(name string, mod func(*LinkState)) {
	f.mu.Lock()
	nf := Facts{}
	for k, v := range f.facts {
		nf[k] = v
	}
	l := nf[name]
	mod(&l)
	nf[name] = l
	f.facts = nf
	f.mu.Unlock()
	f.ch <- nf
}

// host is one simulated router: a manager with fake kernel, announcer and
// links, attached to in-memory segments by interface name.
type host struct {
	name   string
	kern   *viptest.Kernel
	ann    *viptest.Announcer
	links  *fakeLinks
	mgr    *Manager
	conns  map[string]*vrnettest.Conn
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	events []Event
	dels   []netip.Prefix // every address the manager deleted
}

// recKernel records address deletions (a flap shows up here even when it is
// too short for polling).
type recKernel struct {
	*viptest.Kernel
	h *host
}

func (k recKernel) DelAddr(i int, p netip.Prefix) error {
	k.h.mu.Lock()
	k.h.dels = append(k.h.dels, p)
	k.h.mu.Unlock()
	return k.Kernel.DelAddr(i, p)
}

// addrs per host number n: 192.0.2.n/24 and fe80::n/64 on every interface.
func startHost(t *testing.T, n int, segs map[string]*vrnettest.Segment, cfg Config) *host {
	t.Helper()
	mac := net.HardwareAddr{2, 0, 0, 0, 0, byte(n)}
	v4 := fmt.Sprintf("192.0.2.%d/24", n)
	v6 := fmt.Sprintf("fe80::%d/64", n)
	h := &host{name: fmt.Sprintf("h%d", n), kern: viptest.NewKernel("eth0", mac, v4, v6), ann: &viptest.Announcer{},
		links: &fakeLinks{facts: Facts{}, ch: make(chan Facts, 16)}, conns: map[string]*vrnettest.Conn{}}
	idx := 2
	for name := range segs {
		h.links.facts[name] = LinkState{Name: name, Index: idx, Up: true, MAC: mac, Addrs: []AddrState{
			{Prefix: netip.MustParsePrefix(v4)}, {Prefix: netip.MustParsePrefix(v6)}}}
		idx++
	}
	events := make(chan Event, 1024)
	go func() {
		for e := range events {
			h.mu.Lock()
			h.events = append(h.events, e)
			h.mu.Unlock()
		}
	}()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() && os.Getenv("VRRP_NODE_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("host", h.name)
	}
	var err error
	h.mgr, err = New(cfg, Options{Log: log, Kernel: recKernel{h.kern, h}, Announcer: h.ann, Links: h.links, Events: events,
		Open: func(ifname string, fam vrrp.Family) (vrnet.Conn, error) {
			addr := netip.MustParsePrefix(v4).Addr()
			if fam == vrrp.IPv6 {
				addr = netip.MustParsePrefix(v6).Addr()
			}
			c := segs[ifname].Attach(addr, h.links.facts[ifname].Index)
			h.mu.Lock()
			h.conns[ifname] = c
			h.mu.Unlock()
			return c, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.mgr.Run(ctx); close(h.done); close(events) }()
	t.Cleanup(func() { h.stop(t) })
	return h
}

// stop is a clean shutdown (priority 0); safe to call twice.
func (h *host) stop(t *testing.T) {
	t.Helper()
	h.cancel()
	select {
	case err, ok := <-h.done:
		if ok && err != nil {
			t.Errorf("%s: Run: %v", h.name, err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s: Run did not return", h.name)
	}
}

// kill drops the host off every segment without a word (kill -9).
func (h *host) kill(segs map[string]*vrnettest.Segment) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, c := range h.conns {
		segs[name].Cut(c, true)
	}
}

func (h *host) status(name string) InstanceStatus {
	for _, s := range h.mgr.Snapshot() {
		if s.Name == name {
			return s
		}
	}
	return InstanceStatus{}
}

func (h *host) state(name string) string { return h.status(name).State }

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// never checks that cond stays false for d.
func never(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		if cond() {
			t.Fatalf("%s", what)
		}
	}
}

func inst(name string, vrid, prio uint8, mod ...func(*InstanceConfig)) InstanceConfig {
	ic := InstanceConfig{Name: name, Interface: "eth0", Version: 3, VRID: vrid, Priority: prio,
		AdvertInterval: 20 * time.Millisecond, VIPs: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("192.0.2.%d/24", 100+int(vrid)))}}
	for _, f := range mod {
		f(&ic)
	}
	return ic
}
