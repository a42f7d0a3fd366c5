package sysctl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeProcSys builds a /proc/sys-like tree in a temporary directory.
func fakeProcSys(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for key, v := range files {
		p, err := Path(key)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readKey(t *testing.T, root, key string) string {
	t.Helper()
	v, err := ProcSys{Root: root}.Read(key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// countingFS counts writes and can make the "kernel" ignore writes to some keys.
type countingFS struct {
	FS
	writes []string
	ignore map[string]bool
}

func (c *countingFS) Write(key, value string) error {
	c.writes = append(c.writes, key+"="+value)
	if c.ignore[key] {
		return nil
	}
	return c.FS.Write(key, value)
}

func TestReconcileTempProcSys(t *testing.T) {
	root := fakeProcSys(t, map[string]string{
		"net.ipv4.ip_forward":               "0",
		"net.ipv4.conf.eth0.rp_filter":      "1",
		"net.ipv4.conf.eth0.arp_ignore":     "0",
		"net.ipv4.conf.eth0.arp_announce":   "0",
		"net.ipv4.conf.eth0.arp_notify":     "0",
		"net.ipv4.neigh.default.gc_thresh1": "128",
		"net.ipv4.neigh.default.gc_thresh2": "512",
		"net.ipv4.neigh.default.gc_thresh3": "1024",
		"net.ipv4.ip_local_port_range":      "32768\t60999",
		"net.core.somaxconn":                "4096",
		// no net.ipv4.vs: the host has no ip_vs loaded
	})
	fsys := &countingFS{FS: ProcSys{Root: root}}
	rec := &Reconciler{FS: fsys}
	settings, err := Desired(Input{
		Interfaces: ifaces[:1],
		Services: []Service{{Name: "web", VIP: addr("192.0.2.100"), Protocol: "tcp", Scheduler: "rr", Forwarding: NAT,
			RealServers: []RealServer{{Address: addr("198.51.100.11")}}}},
		Overrides: map[string]string{"net.ipv4.ip_local_port_range": "32768 60999", "net.core.somaxconn": "8192"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res := rec.Reconcile(ctx, settings)

	// Missing IPVS keys are reported clearly, and the pass went on.
	err = res.Err()
	if err == nil {
		t.Fatal("no error for missing net.ipv4.vs keys")
	}
	if !strings.Contains(err.Error(), "sysctl net.ipv4.vs.expire_nodest_conn: not present (is ip_vs loaded?)") {
		t.Errorf("error %q", err)
	}
	if !errors.Is(err, ErrNotPresent) {
		t.Errorf("error does not wrap ErrNotPresent: %v", err)
	}
	for key, want := range map[string]string{
		"net.ipv4.ip_forward": "1", "net.ipv4.conf.eth0.rp_filter": "2", "net.ipv4.conf.eth0.arp_ignore": "1",
		"net.ipv4.conf.eth0.arp_announce": "2", "net.ipv4.conf.eth0.arp_notify": "1", "net.core.somaxconn": "8192",
	} {
		if got := readKey(t, root, key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	// Only the differences were written (not gc_thresh*, not the port range whose
	// tab-separated value equals the override).
	wantWrites := []string{"net.core.somaxconn=8192", "net.ipv4.ip_forward=1", "net.ipv4.conf.eth0.arp_announce=2",
		"net.ipv4.conf.eth0.arp_ignore=1", "net.ipv4.conf.eth0.arp_notify=1", "net.ipv4.conf.eth0.rp_filter=2"}
	if !slices.Equal(fsys.writes, wantWrites) {
		t.Errorf("writes %q, want %q", fsys.writes, wantWrites)
	}
	if len(res.Changes) != len(wantWrites) || len(res.Repairs()) != 0 {
		t.Errorf("changes %+v repairs %+v", res.Changes, res.Repairs())
	}
	for _, s := range res.Status {
		if strings.HasPrefix(s.Key, "net.ipv4.vs.") == s.OK() {
			t.Errorf("status %s: ok=%v err=%v", s.Key, s.OK(), s.Err)
		}
	}

	// No-op pass: nothing written.
	fsys.writes = nil
	res = rec.Reconcile(ctx, settings)
	if len(fsys.writes) != 0 || len(res.Changes) != 0 {
		t.Errorf("no-op pass wrote %q", fsys.writes)
	}

	// Drift: someone sets rp_filter back to strict; the next pass repairs it and says so.
	if err := os.WriteFile(filepath.Join(root, "net/ipv4/conf/eth0/rp_filter"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = rec.Reconcile(ctx, settings)
	rep := res.Repairs()
	if len(rep) != 1 || rep[0].Key != "net.ipv4.conf.eth0.rp_filter" || rep[0].From != "1" || rep[0].To != "2" || rep[0].Reason == "" {
		t.Errorf("repairs %+v", rep)
	}
	if got := readKey(t, root, "net.ipv4.conf.eth0.rp_filter"); got != "2" {
		t.Errorf("rp_filter after repair = %q", got)
	}

	// A config change is a change, not a drift repair.
	settings2 := slices.Clone(settings)
	for i := range settings2 {
		if settings2[i].Key == "net.core.somaxconn" {
			settings2[i].Value = "1024"
		}
	}
	res = rec.Reconcile(ctx, settings2)
	if len(res.Changes) != 1 || res.Changes[0].Drift {
		t.Errorf("config change: %+v", res.Changes)
	}
}

func TestReconcileErrors(t *testing.T) {
	root := fakeProcSys(t, map[string]string{"net.ipv4.vs.conntrack": "0", "net.ipv4.vs.sloppy_tcp": "0"})
	fsys := &countingFS{FS: ProcSys{Root: root}, ignore: map[string]bool{"net.ipv4.vs.sloppy_tcp": true}}
	rec := &Reconciler{FS: fsys}
	res := rec.Reconcile(context.Background(), []Setting{
		{Key: "net.ipv4.vs.sloppy_tcp", Value: "1", Source: Computed},
		{Key: "net.ipv4.conf.eth9.rp_filter", Value: "2", Source: Computed},
		{Key: "net.ipv4.route.nonsense", Value: "1", Source: Computed},
		{Key: "net.bogus.key", Value: "1", Source: Override},
		{Key: "net.ipv4.vs.conntrack", Value: "0", Source: Computed},
	})
	got := res.Err().Error()
	for _, want := range []string{
		"sysctl net.ipv4.vs.sloppy_tcp: wrote 1, reads back 0",
		"sysctl net.ipv4.conf.eth9.rp_filter: not present (no interface eth9?)",
		"sysctl net.ipv4.route.nonsense: not present",
		"sysctl override net.bogus.key: no such key in /proc/sys",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("error lacks %q:\n%s", want, got)
		}
	}
	if !res.Status[4].OK() {
		t.Errorf("a good key after failing ones: %+v", res.Status[4])
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = rec.Reconcile(ctx, []Setting{{Key: "net.ipv4.vs.conntrack", Value: "1"}})
	if !errors.Is(res.Err(), context.Canceled) || readKey(t, root, "net.ipv4.vs.conntrack") != "0" {
		t.Errorf("cancelled pass: %v", res.Err())
	}
}

func TestCheckOverrides(t *testing.T) {
	root := fakeProcSys(t, map[string]string{"net.core.somaxconn": "4096"})
	fsys := ProcSys{Root: root}
	if err := CheckOverrides(fsys, map[string]string{"net.core.somaxconn": "1"}); err != nil {
		t.Fatal(err)
	}
	err := CheckOverrides(fsys, map[string]string{"net.core.somaxconn": "1", "net.core.nope": "1", "bad..key": "1"})
	if err == nil || !strings.Contains(err.Error(), "sysctl override net.core.nope: no such key in /proc/sys") ||
		!strings.Contains(err.Error(), `"bad..key": bad key`) || strings.Contains(err.Error(), "somaxconn") {
		t.Errorf("CheckOverrides: %v", err)
	}
}

func TestProcSysNeverCreates(t *testing.T) {
	root := t.TempDir()
	if err := (ProcSys{Root: root}).Write("net.ipv4.ip_forward", "1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write of a missing key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "net/ipv4/ip_forward")); !errors.Is(err, os.ErrNotExist) {
		t.Error("write created the file")
	}
}
