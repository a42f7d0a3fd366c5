package vmtest

import (
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
)

func TestHealthSeedIsValid(t *testing.T) {
	for check := range healthChecks {
		c, err := config.DecodeBytes(healthSeed(t, check))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if w := c.Warnings(); len(w) != 0 {
			t.Fatalf("warnings: %v", w)
		}
		hc := c.VirtualServices[0].HealthCheck
		if hc == nil || string(hc.Type) != check || hc.Interval.D() != hcInterval || hc.Fall != hcFall || len(c.VirtualServices[0].RealServers) != 3 {
			t.Fatalf("seed check %+v", hc)
		}
		if check == "tcp" && (hc.TCP == nil || !hc.TCP.HalfOpen) {
			t.Fatalf("tcp seed check is not half-open: %+v", hc)
		}
	}
}

func TestDestWeights(t *testing.T) {
	table := ipvsTable(`TCP  C0000264:0050 rr 
  -> C633640D:0050      Masq    1      0          3         
[   12.3] lvsboxd: level=INFO msg="health: down"
  -> C633640B:0050      Masq    0      1          9         
`)
	got := destWeights(table)
	if len(got) != 2 || got[procDest("198.51.100.13", 80)] != "1" || got[procDest("198.51.100.11", 80)] != "0" {
		t.Fatalf("destWeights = %v", got)
	}
	if procDest("198.51.100.12", 80) != "C633640C:0050" {
		t.Fatal(procDest("198.51.100.12", 80))
	}
}
