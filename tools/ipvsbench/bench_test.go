package main

import (
	"strings"
	"testing"
	"time"
)

func TestParsePhaseAndTable(t *testing.T) {
	sz := Size{1000, 10}
	rows := map[string][][]int64{}
	out := `CHECK bench/1000x10/full_apply ok 11000 writes in 500 ms
ROW full 500000000 11000
ROW full 900000000 11000
ROW full 400000000 11000
ROW noop 250000000 0
CHECK bench/1000x10/noop_zero_writes FAIL 3 writes
ROW ipvsadm_R 5100000000
note
`
	var copied strings.Builder
	failed, err := parsePhase(strings.NewReader(out), &copied, rows)
	if err != nil || failed != 1 {
		t.Fatalf("failed %d, %v", failed, err)
	}
	if strings.Contains(copied.String(), "ROW") || !strings.Contains(copied.String(), "CHECK bench/1000x10/noop_zero_writes FAIL") || !strings.Contains(copied.String(), "note") {
		t.Errorf("copied:\n%s", copied.String())
	}
	if _, err := parsePhase(strings.NewReader("ROW full x\n"), &copied, rows); err == nil {
		t.Error("bad ROW accepted")
	}
	var table strings.Builder
	if len(rows["full"]) != 3 {
		t.Fatalf("full samples %v", rows["full"])
	}
	printTable(&table, []Size{sz}, map[Size]map[string][][]int64{sz: rows})
	for _, want := range []string{
		"| step | 1000x10 |",
		"| lvsbox: full apply from empty (reconcile, batched) | 500 ms / 11000 |",
		"| `ipvsadm -R` of the same rules (from empty) | 5.10 s |",
		"| speed-up of lvsbox over `ipvsadm -R` | 10.2x |",
		"| lvsbox: no-op reconcile (time / writes) | 250 ms / 0 |",
		"| `ipvsadm -C` of the full table | - |",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

func TestDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		420 * time.Microsecond: "0.42 ms", 12300 * time.Microsecond: "12.3 ms",
		845 * time.Millisecond: "845 ms", 2340 * time.Millisecond: "2.34 s",
	} {
		if got := dur(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
