package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/init/kmod"
)

func TestParseArgs(t *testing.T) {
	r, err := parseArgs([]string{"-q", "--", "ip_vs_sed"}) // what request_module() runs
	if err != nil || !r.quiet || !slices.Equal(r.names, []string{"ip_vs_sed"}) {
		t.Fatalf("kernel form: %+v, %v", r, err)
	}
	r, err = parseArgs([]string{"-v", "-a", "ipip", "8021q"})
	if err != nil || !r.verbose || !slices.Equal(r.names, []string{"ipip", "8021q"}) {
		t.Fatalf("operator form: %+v, %v", r, err)
	}
	for _, bad := range [][]string{nil, {"-q"}, {"-r", "ipip"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("parseArgs(%q) accepted", bad)
		}
	}
}

type fakeProber map[string]error

func (f fakeProber) Probe(name string) error { return f[name] }

func TestProbeAll(t *testing.T) {
	p := fakeProber{"missing": fmt.Errorf("x: %w", kmod.ErrNotFound), "broken": errors.New("exec format error")}
	if err := probeAll(p, request{names: []string{"ip_vs", "missing"}, quiet: true}); err != nil {
		t.Fatalf("-q must hide a missing module: %v", err)
	}
	err := probeAll(p, request{names: []string{"missing", "ip_vs", "broken"}})
	if err == nil || !strings.Contains(err.Error(), "missing:") || !strings.Contains(err.Error(), "broken: exec format error") {
		t.Fatalf("want both failures named, got %v", err)
	}
	if err := probeAll(p, request{names: []string{"broken"}, quiet: true}); err == nil {
		t.Fatal("-q must not hide a real load failure")
	}
}
