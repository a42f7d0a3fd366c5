package keepalived

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// FuzzImport: parsing and mapping never panic, terminate on include loops and
// self-referencing definitions, and produce a configuration that encodes and
// strictly decodes (it may not validate). The input is both keepalived.conf and a
// file it may include ("inc.conf", "inc/x.conf"), so includes can loop. Seeds:
// every golden input and testdata/fuzz/FuzzImport.
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
		s := string(data)
		fsys := MapFS{"k.conf": s, "inc.conf": s, "inc/x.conf": s}
		c, notes, err := ImportFS(fsys, "k.conf", Options{ConfigID: "lb1", MaxIncludeDepth: 4})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		for _, n := range notes {
			if n.Message == "" || n.Severity == "" {
				t.Fatalf("empty note %+v", n)
			}
		}
		_ = c.Validate()
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := config.DecodeBytes(b); err != nil {
			t.Fatalf("imported config does not decode: %v\n%s", err, b)
		}
	})
}
