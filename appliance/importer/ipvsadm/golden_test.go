package ipvsadm

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/importer/importertest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenInputs are the directories of ipvsadm inputs with a golden result each:
// the rules found in ../shared/seeds and our own cases.
var goldenInputs = []string{"testdata/seeds", "testdata/cases"}

// TestGolden imports every input and compares config + notes with
// testdata/golden/<dir>/<file>.json; each result must validate or carry notes of
// severity error that explain every validation error.
func TestGolden(t *testing.T) {
	for _, dir := range goldenInputs {
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no inputs in %s (%v)", dir, err)
		}
		for _, in := range files {
			t.Run(strings.TrimPrefix(in, "testdata/"), func(t *testing.T) {
				data, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				c, notes, err := Import(bytes.NewReader(data), Options{Name: in})
				if err != nil {
					t.Fatal(err)
				}
				importertest.CheckExplained(t, c, notes)
				importertest.DecodeRoundTrip(t, c)
				golden := filepath.Join("testdata/golden", filepath.Base(dir), filepath.Base(in)+".json")
				importertest.Golden(t, golden, importertest.Marshal(t, c, notes), *update)
			})
		}
	}
}
