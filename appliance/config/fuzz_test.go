package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"testing"
)

// FuzzDecode: decoding never panics, and whatever decodes can be validated,
// defaulted, warned about and re-encoded; a valid config round-trips. Seeds: the
// example documents and testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{fullExample, "testdata/draft.json", "../../board/qemu-x86_64/seed.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"virtual_services":[{"name":"1","fwmark":1,"real_servers":[{"address":"::1","port":0}]}]}`))
	f.Add([]byte(`{"interfaces":[{"name":"a","bond":{"members":["a","b"]}},{"name":"b","vlan":{"parent":"a","id":1}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeBytes(data)
		if err != nil {
			return
		}
		verr := c.Validate()
		_ = c.Warnings()
		d := c.WithDefaults()
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if verr != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("valid config invalid after defaults: %v", err)
		}
		again, err := DecodeBytes(out)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		// Compared as JSON: an empty list decodes as an empty slice but encodes as
		// absent, which is the same document.
		if out2, _ := json.Marshal(again); !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the config:\n%s\n%s", out, out2)
		}
	})
}

// BenchmarkValidate measures decode + validate of 1,000 services x 10 real servers.
func BenchmarkValidate(b *testing.B) {
	c := Config{}
	for i := range 1000 {
		vs := VirtualService{Name: fmt.Sprintf("svc%d", i), Protocol: ProtocolTCP,
			Address: addr("10.0.0.1"), Port: 1 + i, Scheduler: "wrr", Forwarding: ForwardingNAT,
			HealthCheck: &HealthCheck{Type: CheckTCP}}
		for j := range 10 {
			a := [4]byte{10, 1, byte(i / 250), byte(j + 10*(i%25))}
			vs.RealServers = append(vs.RealServers, RealServer{Address: netip.AddrFrom4(a), Port: 8080, Weight: intp(1)})
		}
		c.VirtualServices = append(c.VirtualServices, vs)
	}
	data, err := json.Marshal(c)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := DecodeBytes(data); err != nil {
		b.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(data)), "doc-bytes")
	b.Run("validate", func(b *testing.B) {
		for b.Loop() {
			_ = c.Validate()
		}
	})
	b.Run("decode+validate", func(b *testing.B) {
		for b.Loop() {
			c, _ := DecodeBytes(data)
			_ = c.Validate()
		}
	})
	b.Run("with-defaults", func(b *testing.B) {
		for b.Loop() {
			_ = c.WithDefaults()
		}
	})
}
