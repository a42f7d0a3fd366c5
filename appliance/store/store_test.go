package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
)

const seedJSON = `{
  "system": {"hostname": "lvsbox"},
  "interfaces": [{"name": "eth0", "addresses": ["192.0.2.2/24", "192.0.2.100/32"]}],
  "routes": [{"destination": "0.0.0.0/0", "gateway": "192.0.2.1"}],
  "virtual_services": [
    {"name": "web", "protocol": "tcp", "address": "192.0.2.100", "port": 80,
     "scheduler": "wrr", "forwarding": "nat",
     "real_servers": [{"address": "198.51.100.11", "port": 80, "weight": 3}]}
  ]
}`

// clock is an injectable clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

var t0 = time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openAt(t testing.TB, dir string, c *clock) *Store {
	t.Helper()
	s, err := Open(dir, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func open(t testing.TB) (*Store, *clock) {
	t.Helper()
	c := newClock()
	return openAt(t, t.TempDir(), c), c
}

// cfg decodes a JSON document; tests build configurations from JSON so that they
// follow the model's documented format, not its Go types.
func cfg(t testing.TB, doc string) config.Config {
	t.Helper()
	c, err := config.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatalf("test document: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("test document: %v", err)
	}
	return c
}

// hostCfg is seedJSON with another host name.
func hostCfg(t testing.TB, host string) config.Config {
	return cfg(t, strings.Replace(seedJSON, `"hostname": "lvsbox"`, `"hostname": "`+host+`"`, 1))
}

func apply(t testing.TB, s *Store, base uint64, c config.Config, m Meta) RevisionInfo {
	t.Helper()
	ri, err := s.Apply(base, c, m)
	if err != nil {
		t.Fatalf("apply on %d: %v", base, err)
	}
	if ri.Number != base+1 {
		t.Fatalf("apply on %d made revision %d", base, ri.Number)
	}
	return ri
}

func writeSeed(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplyCurrentHistoryPersistence(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := openAt(t, dir, c)

	if empty, err := s.Empty(); err != nil || !empty {
		t.Fatalf("new store: empty=%v err=%v", empty, err)
	}
	cur, err := s.Current()
	if err != nil || cur.Number != 0 || cur.Config.System.Hostname != "" || len(cur.Config.VirtualServices) != 0 {
		t.Fatalf("Current on empty store = %+v, %v; want revision 0, empty config", cur, err)
	}

	apply(t, s, 0, hostCfg(t, "one"), Meta{User: "alice", Comment: "first"})
	c.Add(time.Minute)
	apply(t, s, 1, hostCfg(t, "two"), Meta{User: "bob", Comment: "second"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, dir, c)
	cur, err = s.Current()
	if err != nil {
		t.Fatal(err)
	}
	if cur.Number != 2 || cur.User != "bob" || cur.Comment != "second" || !cur.Time.Equal(t0.Add(time.Minute)) ||
		cur.Pending() || cur.Confirmed || cur.RolledBackFrom != 0 {
		t.Fatalf("current = %+v", cur.RevisionInfo)
	}
	if cur.Config.System.Hostname != "two" || len(cur.Config.VirtualServices) != 1 || cur.Config.VirtualServices[0].Name != "web" {
		t.Fatalf("current config = %+v", cur.Config)
	}
	first, err := s.Get(1)
	if err != nil || first.Config.System.Hostname != "one" || first.User != "alice" || !first.Time.Equal(t0) {
		t.Fatalf("revision 1 = %+v, %v", first, err)
	}
	if _, err := s.Get(3); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(3) on a 2-revision store: %v, want ErrNotFound", err)
	}
	if zero, err := s.Get(0); err != nil || zero.Number != 0 || zero.Config.System.Hostname != "" {
		t.Fatalf("Get(0) = %+v, %v", zero, err)
	}

	hist, err := s.History(0)
	if err != nil || len(hist) != 2 || hist[0].Number != 2 || hist[1].Number != 1 || hist[1].Comment != "first" {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	if hist, err := s.History(1); err != nil || len(hist) != 1 || hist[0].Number != 2 {
		t.Fatalf("history(1) = %+v, %v", hist, err)
	}
}

func TestApplyRejectsInvalid(t *testing.T) {
	s, _ := open(t)
	bad := cfg(t, seedJSON)
	bad.VirtualServices[0].Port = 70000
	_, err := s.Apply(0, bad, Meta{})
	var es config.Errors
	if !errors.As(err, &es) || !strings.Contains(err.Error(), "virtual_services[web].port") {
		t.Fatalf("apply of invalid config: %v", err)
	}
	if empty, _ := s.Empty(); !empty {
		t.Fatal("invalid config was stored")
	}
}

func TestImportSeed(t *testing.T) {
	s, _ := open(t)
	n, err := ImportSeed(s, writeSeed(t, seedJSON))
	if err != nil || n != 1 {
		t.Fatalf("import: n=%d err=%v", n, err)
	}
	cur, err := s.Current()
	if err != nil || cur.Number != 1 || cur.Comment != SeedComment || cur.User != SystemUser {
		t.Fatalf("current = %+v err=%v", cur.RevisionInfo, err)
	}
	if len(cur.Config.VirtualServices) != 1 || cur.Config.VirtualServices[0].Name != "web" {
		t.Fatalf("seed snapshot = %+v", cur.Config)
	}
	// Second boot: the store is not empty, the seed is ignored (even a broken one).
	if n, err := ImportSeed(s, writeSeed(t, "{broken")); err != nil || n != 0 {
		t.Fatalf("second import: n=%d err=%v", n, err)
	}
	if cur, _ := s.Current(); cur.Number != 1 {
		t.Fatalf("second import changed the store: %+v", cur.RevisionInfo)
	}
}

func TestImportSeedInvalidStoresNothing(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field": `{"system": {"hostname": "x", "colour": "red"}}`,
		"invalid value": strings.Replace(seedJSON, `"port": 80,`+"\n", `"port": 70000,`+"\n", 1),
		"syntax":        `{"system": `,
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := open(t)
			_, err := ImportSeed(s, writeSeed(t, body))
			if err == nil {
				t.Fatal("invalid seed imported")
			}
			if name != "syntax" {
				var es config.Errors
				if !errors.As(err, &es) {
					t.Fatalf("error does not carry field errors: %v", err)
				}
			}
			if empty, _ := s.Empty(); !empty {
				t.Fatal("something was stored")
			}
		})
	}
	s, _ := open(t)
	if _, err := ImportSeed(s, filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("missing seed file accepted")
	}
}

func TestOpenLockedFileTimesOut(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir, newClock())
	if _, err := Open(dir, Options{LockTimeout: 50 * time.Millisecond}); err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
}

func TestCallersCannotChangeStoredConfig(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := openAt(t, dir, c)
	in := cfg(t, web)
	apply(t, s, 0, in, Meta{})
	in.VirtualServices[0].Name = "mutated-input"
	in.VirtualServices[0].RealServers[0].Address = in.VirtualServices[1].Address

	for range 2 { // the first read may fill the cache, the second hits it
		cur, err := s.Current()
		if err != nil {
			t.Fatal(err)
		}
		if cur.Config.VirtualServices[0].Name != "web" || cur.Config.VirtualServices[0].RealServers[0].Address.String() != "198.51.100.11" {
			t.Fatalf("stored config changed through the caller's copy: %+v", cur.Config.VirtualServices[0])
		}
		cur.Config.VirtualServices[0].Name = "mutated-output"
		cur.Config.VirtualServices[0].RealServers[0].Address = cur.Config.VirtualServices[1].Address
		got, _ := s.Get(1)
		if got.Config.VirtualServices[0].Name != "web" {
			t.Fatal("Current returned shared state")
		}
	}
	// A fresh process reads the same thing from disk.
	s.Close()
	s = openAt(t, dir, c)
	fromDisk, _ := s.Current()
	want, _ := json.Marshal(cfg(t, web))
	got, _ := json.Marshal(fromDisk.Config)
	if string(got) != string(want) {
		t.Fatalf("on disk:\n%s\nwant\n%s", got, want)
	}
}
