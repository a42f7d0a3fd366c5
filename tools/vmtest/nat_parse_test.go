package vmtest

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestIPVSTableIgnoresCountersAndNoise(t *testing.T) {
	a := `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C0000264:0050 wrr 
  -> C633640C:0050      Masq    1      0          3         
  -> C633640B:0050      Masq    3      1          9         
`
	b := `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
[   12.3] lvsboxd: level=INFO msg="lvsbox: ready"
TCP  C0000264:0050 wrr 
  -> C633640C:0050      Masq    1      2          40        
  -> C633640B:0050      Masq    3      0          120       
`
	if ipvsTable(a) != ipvsTable(b) {
		t.Fatalf("tables differ:\n%s\n--\n%s", ipvsTable(a), ipvsTable(b))
	}
	want := "TCP C0000264:0050 wrr\n  -> C633640C:0050 Masq 1\n  -> C633640B:0050 Masq 3"
	if got := ipvsTable(a); got != want {
		t.Fatalf("ipvsTable = %q, want %q", got, want)
	}
	c := `TCP  C0000264:0050 wrr 
  -> C633640C:0050      Masq    2      0          3         
  -> C633640B:0050      Masq    3      1          9         
`
	if ipvsTable(a) == ipvsTable(c) {
		t.Fatal("a weight change went unnoticed")
	}
}

func TestCountAnswers(t *testing.T) {
	counts, failed := countAnswers("ok rs1\nok rs2\nok rs1\nerr Get \"http://192.0.2.100/\": timeout\nsummary ok=3 err=1\n")
	if !reflect.DeepEqual(counts, map[string]int{"rs1": 2, "rs2": 1}) || len(failed) != 1 {
		t.Fatalf("counts %v failed %v", counts, failed)
	}
}

func TestNATSeedIsValidJSON(t *testing.T) {
	var v map[string]any
	if err := json.Unmarshal(natSeed(t), &v); err != nil {
		t.Fatal(err)
	}
	if len(v["virtual_services"].([]any)) != 1 {
		t.Fatalf("seed %v", v)
	}
}
