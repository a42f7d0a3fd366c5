package store

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
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

func open(t *testing.T, dir string, now time.Time) *Store {
	t.Helper()
	s, err := Open(dir, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func writeSeed(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommitCurrentAndPersistence(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	s := open(t, dir, t0)

	if empty, err := s.Empty(); err != nil || !empty {
		t.Fatalf("new store: empty=%v err=%v", empty, err)
	}
	if _, err := s.Current(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Current on empty store: %v, want ErrEmpty", err)
	}

	c1 := config.Config{System: config.System{Hostname: "one"}}
	n, err := s.Commit(c1, "first")
	if err != nil || n != 1 {
		t.Fatalf("commit 1: n=%d err=%v", n, err)
	}
	c2 := config.Config{System: config.System{Hostname: "two"}, VirtualServices: []config.VirtualService{
		{Name: "dns", Protocol: config.ProtocolUDP, Address: netip.MustParseAddr("192.0.2.53"), Port: 53},
	}}
	if n, err := s.Commit(c2, "second"); err != nil || n != 2 {
		t.Fatalf("commit 2: n=%d err=%v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen: everything survives.
	s = open(t, dir, t0)
	cur, err := s.Current()
	if err != nil {
		t.Fatal(err)
	}
	if cur.Number != 2 || cur.Comment != "second" || !cur.Time.Equal(t0) {
		t.Fatalf("current = %+v", cur)
	}
	got, err := cur.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if got.System.Hostname != "two" || len(got.VirtualServices) != 1 || got.VirtualServices[0].Address != c2.VirtualServices[0].Address {
		t.Fatalf("decoded snapshot = %+v", got)
	}
	first, err := s.Get(1)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := first.Decode(); c.System.Hostname != "one" {
		t.Fatalf("revision 1 = %+v", c)
	}
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].Number != 1 || list[1].Comment != "second" || list[1].Config != nil {
		t.Fatalf("list = %+v err=%v", list, err)
	}
	if _, err := s.Get(3); err == nil {
		t.Fatal("Get(3) on a 2-revision store succeeded")
	}
}

func TestCommitRejectsInvalid(t *testing.T) {
	s := open(t, t.TempDir(), time.Now())
	bad := config.Config{VirtualServices: []config.VirtualService{{Name: "web", Address: netip.MustParseAddr("192.0.2.1"), Port: 70000}}}
	_, err := s.Commit(bad, "bad")
	var es config.Errors
	if !errors.As(err, &es) || !strings.Contains(err.Error(), "virtual_services[web].port") {
		t.Fatalf("commit of invalid config: %v", err)
	}
	if empty, _ := s.Empty(); !empty {
		t.Fatal("invalid config was stored")
	}
}

func TestImportSeed(t *testing.T) {
	s := open(t, t.TempDir(), time.Now())
	seed := writeSeed(t, seedJSON)
	n, err := ImportSeed(s, seed)
	if err != nil || n != 1 {
		t.Fatalf("import: n=%d err=%v", n, err)
	}
	cur, err := s.Current()
	if err != nil || cur.Number != 1 || cur.Comment != SeedComment {
		t.Fatalf("current = %+v err=%v", cur, err)
	}
	c, err := cur.Decode()
	if err != nil || len(c.VirtualServices) != 1 || c.VirtualServices[0].Name != "web" {
		t.Fatalf("seed snapshot = %+v err=%v", c, err)
	}
	// Second boot: the store is not empty, the seed is ignored (even a broken one).
	if n, err := ImportSeed(s, writeSeed(t, "{broken")); err != nil || n != 0 {
		t.Fatalf("second import: n=%d err=%v", n, err)
	}
	if cur, _ := s.Current(); cur.Number != 1 {
		t.Fatalf("second import changed the store: %+v", cur)
	}
}

func TestImportSeedInvalidStoresNothing(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field": `{"system": {"hostname": "x", "colour": "red"}}`,
		"invalid value": strings.Replace(seedJSON, `"port": 80,`+"\n", `"port": 70000,`+"\n", 1),
		"syntax":        `{"system": `,
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t, t.TempDir(), time.Now())
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
	s := open(t, t.TempDir(), time.Now())
	if _, err := ImportSeed(s, filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("missing seed file accepted")
	}
}
