package ipvsadm

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// FuzzImport: reading any input never panics and yields a configuration that
// encodes and strictly decodes (it may not validate). Seeds: every golden input and
// testdata/fuzz/FuzzImport.
func FuzzImport(f *testing.F) {
	for _, dir := range goldenInputs {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, notes, err := Import(bytes.NewReader(data), Options{})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		for _, n := range notes {
			if n.Message == "" || n.Severity == "" {
				t.Fatalf("empty note %+v", n)
			}
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := config.DecodeBytes(b); err != nil {
			t.Fatalf("imported config does not decode: %v\n%s", err, b)
		}
	})
}
