// Package importertest holds what the importers' tests share: golden files of
// import results (rewritten with the tests' -update flag) and the check that an
// imported configuration validates or carries the explanation why not. It is for
// tests only and must not be imported by production code.
package importertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// Result is what a golden file holds: the imported configuration and the notes.
type Result struct {
	Config config.Config   `json:"config"`
	Notes  []importer.Note `json:"notes"`
}

// Marshal formats an import result for a golden file.
func Marshal(t testing.TB, c config.Config, notes []importer.Note) []byte {
	t.Helper()
	if notes == nil {
		notes = []importer.Note{}
	}
	b, err := json.MarshalIndent(Result{Config: c, Notes: notes}, "", "  ")
	if err != nil {
		t.Fatalf("marshal result: %v", err)
	}
	return append(b, '\n')
}

// Golden compares got with the golden file at path; with update it writes got
// there instead.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the import result (run with -update to accept):\n%s", path, diff(string(want), string(got)))
	}
}

// CheckExplained fails t unless c validates, or every validation error of c is
// explained by a note of severity error that names its path.
func CheckExplained(t testing.TB, c config.Config, notes []importer.Note) {
	t.Helper()
	err := c.Validate()
	if err == nil {
		return
	}
	var es config.Errors
	if !errors.As(err, &es) {
		t.Fatalf("validate: %v", err)
	}
	explained := map[string]bool{}
	for _, n := range notes {
		if n.Severity == importer.Error {
			explained[n.Keyword] = true
		}
	}
	for _, e := range es {
		if !explained[e.Path] {
			t.Errorf("validation error without an explaining note: %v", e)
		}
	}
}

// DecodeRoundTrip fails t unless c survives encoding and strict decoding: an
// importer must produce well-formed values (the result may still be invalid).
func DecodeRoundTrip(t testing.TB, c config.Config) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if _, err := config.DecodeBytes(b); err != nil {
		t.Fatalf("imported config does not decode: %v\n%s", err, b)
	}
}

// diff shows the first differing lines of two texts.
func diff(want, got string) string {
	wl, gl := bytes.Split([]byte(want), []byte("\n")), bytes.Split([]byte(got), []byte("\n"))
	var b bytes.Buffer
	shown := 0
	for i := 0; i < max(len(wl), len(gl)) && shown < 12; i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			b.WriteString("line ")
			b.WriteString(strconv.Itoa(i + 1))
			b.WriteString(":\n  want: ")
			b.Write(w)
			b.WriteString("\n  got:  ")
			b.Write(g)
			b.WriteByte('\n')
			shown++
		}
	}
	return b.String()
}
