package store

import (
	"compress/flate"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
	bolt "go.etcd.io/bbolt"
)

// bigConfig is the measuring point: services x reals real servers.
func bigConfig(tb testing.TB, services, reals int) config.Config {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`{"system": {"hostname": "lb1"}, "virtual_services": [`)
	for s := range services {
		if s > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name": "svc%d", "protocol": "tcp", "address": "192.0.2.%d", "port": %d, "scheduler": "wrr", "forwarding": "nat", "real_servers": [`,
			s, 1+s%250, 1000+s)
		for r := range reals {
			if r > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"address": "198.51.100.%d", "port": 8080, "weight": %d}`, 1+r, 1+(s+r)%100)
		}
		b.WriteString("]}")
	}
	b.WriteString("]}")
	return cfg(tb, b.String())
}

func BenchmarkValidate1000x10(b *testing.B) {
	c := bigConfig(b, 1000, 10)
	for b.Loop() {
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply1000x10 is validate + encode + compress + bbolt commit (with fsync)
// of a 1,000 x 10 configuration, one revision per iteration.
func BenchmarkApply1000x10(b *testing.B) { benchApply(b, bigConfig(b, 1000, 10)) }

// BenchmarkApplySeed is the same for the small seed configuration.
func BenchmarkApplySeed(b *testing.B) { benchApply(b, cfg(b, seedJSON)) }

func benchApply(b *testing.B, c config.Config) {
	s, _ := open(b)
	doc, _ := json.Marshal(c)
	var base uint64
	for b.Loop() {
		c.System.Hostname = fmt.Sprint("lb", base)
		ri, err := s.Apply(base, c, Meta{User: "bench", Comment: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		base = ri.Number
	}
	b.StopTimer()
	var stored int
	s.db.View(func(tx *bolt.Tx) error {
		stored = len(tx.Bucket(bucketSnapshots).Get(key(base))) + len(tx.Bucket(bucketRevisions).Get(key(base)))
		return nil
	})
	fi, err := os.Stat(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(doc)), "json-B")
	b.ReportMetric(float64(stored), "stored-B/rev")
	b.ReportMetric(float64(fi.Size())/float64(base), "file-B/rev")
}

func BenchmarkCurrent1000x10(b *testing.B) {
	s, _ := open(b)
	apply(b, s, 0, bigConfig(b, 1000, 10), Meta{})
	for b.Loop() {
		if _, err := s.Current(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetUncached1000x10 reads an older revision: decompress + strict decode,
// what the first Current after a restart costs.
func BenchmarkGetUncached1000x10(b *testing.B) {
	s, _ := open(b)
	c := bigConfig(b, 1000, 10)
	apply(b, s, 0, c, Meta{})
	apply(b, s, 1, c, Meta{})
	for b.Loop() {
		if _, err := s.Get(1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiff1000x10(b *testing.B) {
	s, _ := open(b)
	c := bigConfig(b, 1000, 10)
	apply(b, s, 0, c, Meta{})
	c.VirtualServices[500].Name = "renamed"
	apply(b, s, 1, c, Meta{})
	for b.Loop() {
		d, err := s.Diff(1, 2)
		if err != nil || len(d) != 2 {
			b.Fatalf("%d changes, %v", len(d), err)
		}
	}
}

// BenchmarkSnapshotCodec compares storing the 1,000 x 10 snapshot as plain JSON and
// at several DEFLATE levels: encode time (ns/op), decode time and stored bytes.
func BenchmarkSnapshotCodec(b *testing.B) {
	doc, _ := json.Marshal(bigConfig(b, 1000, 10))
	for _, tc := range []struct {
		name  string
		level int
	}{{"json", -99}, {"deflate-speed", flate.BestSpeed}, {"deflate-default", flate.DefaultCompression}, {"deflate-best", flate.BestCompression}} {
		enc := func() []byte {
			if tc.level == -99 {
				return append([]byte{codecJSON}, doc...)
			}
			v, err := deflateSnapshot(doc, tc.level)
			if err != nil {
				b.Fatal(err)
			}
			return v
		}
		b.Run("encode-"+tc.name, func(b *testing.B) {
			var v []byte
			for b.Loop() {
				v = enc()
			}
			b.ReportMetric(float64(len(v)), "stored-B")
		})
		b.Run("decode-"+tc.name, func(b *testing.B) {
			v := enc()
			for b.Loop() {
				if _, err := decodeSnapshot(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
