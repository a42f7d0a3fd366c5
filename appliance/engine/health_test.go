package engine

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvstest"
)

func dk(s string) ipvs.DestinationKey {
	ap := netip.MustParseAddrPort(s)
	return ipvs.DestinationKey{Addr: ap.Addr(), Port: ap.Port()}
}

const sorryDoc = `{"virtual_services": [
  {"name": "web", "address": "192.0.2.100", "port": 80, "forwarding": "nat", "scheduler": "wrr",
   "sorry_server": {"address": "198.51.100.99"},
   "real_servers": [{"address": "198.51.100.11", "weight": 3}, {"address": "198.51.100.12"}, {"address": "198.51.100.13"}]},
  {"name": "dns", "address": "192.0.2.100", "port": 53, "protocol": "udp", "real_servers": [{"address": "192.0.2.53"}]}
]}`

func mustConfig(t *testing.T, doc string) config.Config {
	t.Helper()
	c, err := config.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dests renders a service's destinations as "addr:port/weight".
func dests(st ipvs.ServiceState) []string {
	var out []string
	for _, d := range st.Destinations {
		out = append(out, d.Key.String()+"/"+strconv.Itoa(d.Weight))
	}
	return out
}

func TestCompileSorryIsNotInTheTable(t *testing.T) {
	d := Compile(mustConfig(t, sorryDoc))
	web := d.IPVS[0]
	s, ok := d.Sorry[web.Key]
	if !ok || s.Key != dk("198.51.100.99:80") || s.Weight != 1 || s.Forwarding != ipvs.NAT {
		t.Fatalf("sorry %+v %v", s, ok)
	}
	if len(web.Destinations) != 3 || len(d.Sorry) != 1 {
		t.Fatalf("web %v, sorry %v", dests(web), d.Sorry)
	}
}

func TestApplyHealth(t *testing.T) {
	cfg := mustConfig(t, sorryDoc)
	for _, c := range []struct {
		name string
		v    ServiceVerdict
		want []string
	}{
		{"no verdicts on servers: as configured", ServiceVerdict{}, []string{"198.51.100.11:80/3", "198.51.100.12:80/1", "198.51.100.13:80/1"}},
		{"absent, quiesced, dynamic weight", ServiceVerdict{Servers: map[ipvs.DestinationKey]ServerVerdict{
			dk("198.51.100.11:80"): {}, dk("198.51.100.12:80"): {Present: true}, dk("198.51.100.13:80"): {Present: true, Weight: 5}}},
			[]string{"198.51.100.12:80/0", "198.51.100.13:80/5"}},
		{"sorry: the only destination", ServiceVerdict{Sorry: true, Servers: map[ipvs.DestinationKey]ServerVerdict{
			dk("198.51.100.11:80"): {}, dk("198.51.100.12:80"): {}, dk("198.51.100.13:80"): {}}},
			[]string{"198.51.100.99:80/1"}},
		{"sorry with a quiesced server", ServiceVerdict{Sorry: true, Servers: map[ipvs.DestinationKey]ServerVerdict{
			dk("198.51.100.11:80"): {}, dk("198.51.100.12:80"): {Present: true}, dk("198.51.100.13:80"): {}}},
			[]string{"198.51.100.12:80/0", "198.51.100.99:80/1"}},
	} {
		d := Compile(cfg)
		d.ApplyHealth(Verdicts{Services: map[string]ServiceVerdict{"web": c.v}})
		if got := dests(d.IPVS[0]); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if got := dests(d.IPVS[1]); !slices.Equal(got, []string{"192.0.2.53:53/1"}) {
			t.Errorf("%s: service without a verdict changed: %v", c.name, got)
		}
	}
	// A sorry server that is also a real server is there once, with weight 1.
	cfg.VirtualServices[0].SorryServer.Address = netip.MustParseAddr("198.51.100.12")
	d := Compile(cfg)
	d.ApplyHealth(Verdicts{Services: map[string]ServiceVerdict{"web": {Sorry: true, Servers: map[ipvs.DestinationKey]ServerVerdict{
		dk("198.51.100.11:80"): {}, dk("198.51.100.12:80"): {Present: true}, dk("198.51.100.13:80"): {}}}}})
	if got := dests(d.IPVS[0]); !slices.Equal(got, []string{"198.51.100.12:80/1"}) {
		t.Errorf("sorry server equal to a real server: %v", got)
	}
}

// fakeHealth is a Health whose verdicts the test sets.
type fakeHealth struct {
	mu       sync.Mutex
	adopted  []map[string]map[ipvs.DestinationKey]int
	revs     []uint64
	verdicts Verdicts
}

func (f *fakeHealth) Adopt(table map[string]map[ipvs.DestinationKey]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adopted = append(f.adopted, table)
}

func (f *fakeHealth) Configure(rev uint64, _ config.Config) Verdicts {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revs = append(f.revs, rev)
	return f.verdicts
}

func (f *fakeHealth) Preview(config.Config) Verdicts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.verdicts
}

func (f *fakeHealth) set(gen uint64, web ServiceVerdict) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verdicts = Verdicts{Generation: gen, Services: map[string]ServiceVerdict{"web": web}}
}

// TestHealthInThePass: the first pass of a process hands the kernel table to
// Adopt (once), verdicts shape the table, a health change is not drift, a
// restart adopts what the previous process programmed.
func TestHealthInThePass(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, sorryDoc)
	h := &fakeHealth{}
	h.set(1, ServiceVerdict{Sorry: true, Servers: map[ipvs.DestinationKey]ServerVerdict{
		dk("198.51.100.11:80"): {}, dk("198.51.100.12:80"): {}, dk("198.51.100.13:80"): {Present: true}}})
	e := b.daemon()
	e.o.Health = h
	res := pass(t, e)
	if len(res.Errors) != 0 || len(h.adopted) != 1 || len(h.adopted[0]) != 0 {
		t.Fatalf("first pass: %v, adopted %v", res.Errors, h.adopted)
	}
	svcs, _ := b.kernel.Services(context.Background())
	web := svcs[slices.IndexFunc(svcs, func(s ipvs.ServiceState) bool { return s.Key.Port == 80 })]
	slices.SortFunc(web.Destinations, func(a, b ipvs.Destination) int { return a.Key.Compare(b.Key) })
	if got := dests(web); !slices.Equal(got, []string{"198.51.100.13:80/0", "198.51.100.99:80/1"}) {
		t.Fatalf("kernel web = %v", got)
	}
	// Health changes: the writes are not drift.
	h.set(2, ServiceVerdict{Servers: map[ipvs.DestinationKey]ServerVerdict{
		dk("198.51.100.11:80"): {Present: true, Weight: 3}, dk("198.51.100.12:80"): {}, dk("198.51.100.13:80"): {Present: true, Weight: 1}}})
	res = pass(t, e)
	if res.Drift || res.Writes != 3 || strings.Contains(b.log(), "drift repaired") {
		t.Fatalf("health change pass: %+v", res)
	}
	// Someone deletes a destination behind our back: that is drift.
	b.kernel.DeleteDestination(context.Background(), web.Key, dk("198.51.100.11:80"))
	if res = pass(t, e); !res.Drift || res.Writes != 1 {
		t.Fatalf("drift pass: %+v", res)
	}
	if len(h.adopted) != 1 || !slices.Equal(h.revs, []uint64{1, 1, 1}) {
		t.Errorf("adopt calls %d, configure revisions %v", len(h.adopted), h.revs)
	}
	// A restarted daemon adopts the table by service name; with the same verdicts it
	// writes nothing.
	b.kernel.ResetWrites()
	h2 := &fakeHealth{verdicts: h.verdicts}
	e2 := b.daemon()
	e2.o.Health = h2
	if res := pass(t, e2); res.Writes != 0 {
		t.Fatalf("restart wrote %v", res.IPVSOps)
	}
	want := map[ipvs.DestinationKey]int{dk("198.51.100.11:80"): 3, dk("198.51.100.13:80"): 1}
	if len(h2.adopted) != 1 || len(h2.adopted[0]) != 2 || !mapsEqual(h2.adopted[0]["web"], want) || len(h2.adopted[0]["dns"]) != 1 {
		t.Errorf("adopted %v, want web %v and dns", h2.adopted, want)
	}
}

func mapsEqual(a, b map[ipvs.DestinationKey]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestHealthWithoutIPVSAdoptsNothing: without IPVS at the first pass Adopt gets
// nothing (once) and checks still run from the configuration.
func TestHealthWithoutIPVSAdoptsNothing(t *testing.T) {
	b := newBox(t)
	b.store.commit(t, sorryDoc)
	b.noIPVS = errors.New("ipvs: IPVS is not available in this kernel")
	h := &fakeHealth{}
	e := b.daemon()
	e.o.Health = h
	pass(t, e)
	pass(t, e)
	if len(h.adopted) != 1 || h.adopted[0] != nil || len(h.revs) != 2 {
		t.Fatalf("adopted %v, configured %v", h.adopted, h.revs)
	}
	if !strings.Contains(b.log(), "IPVS unavailable at start; no real server adopted") {
		t.Errorf("log:\n%s", b.log())
	}
}

func TestPlannerPreviewsHealth(t *testing.T) {
	cfg := mustConfig(t, sorryDoc)
	k := ipvstest.New()
	if _, err := (&ipvs.Reconciler{Kernel: k}).Reconcile(context.Background(), Compile(cfg).IPVS); err != nil {
		t.Fatal(err)
	}
	h := &fakeHealth{}
	h.set(1, ServiceVerdict{Servers: map[ipvs.DestinationKey]ServerVerdict{dk("198.51.100.12:80"): {}}})
	p := Planner{OpenIPVS: func() (ipvs.Kernel, error) { return k, nil }, Health: h}
	got, err := p.Plan(context.Background(), cfg)
	if want := []string{"delete destination 198.51.100.12:80 from tcp/192.0.2.100:80"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("plan %q (%v), want %q", got, err, want)
	}
}
