package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
)

func TestExportImportRoundTrip(t *testing.T) {
	src, _ := open(t)
	empty, err := src.Export()
	if err != nil || !strings.Contains(string(empty), `"revision": 0`) {
		t.Fatalf("export of an empty store = %s, %v", empty, err)
	}
	apply(t, src, 0, cfg(t, seedJSON), Meta{})
	apply(t, src, 1, cfg(t, web), Meta{})
	out, err := src.Export()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema   int             `json:"schema"`
		Revision uint64          `json:"revision"`
		Config   json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || doc.Schema != config.SchemaVersion || doc.Revision != 2 {
		t.Fatalf("export = %s, %v", out, err)
	}

	dst, _ := open(t)
	ri, err := dst.Import(out, 0, Meta{User: "erin"})
	if err != nil || ri.Number != 1 || ri.User != "erin" || ri.Comment != "import of exported revision 2" {
		t.Fatalf("import = %+v, %v", ri, err)
	}
	a, _ := src.Current()
	b, _ := dst.Current()
	ja, _ := json.Marshal(a.Config)
	jb, _ := json.Marshal(b.Config)
	if string(ja) != string(jb) {
		t.Fatalf("round trip changed the configuration:\n%s\n%s", ja, jb)
	}

	// A bare configuration imports too.
	ri, err = dst.Import([]byte(seedJSON), 1, Meta{})
	if err != nil || ri.Number != 2 || ri.Comment != "import" {
		t.Fatalf("bare import = %+v, %v", ri, err)
	}
}

func TestImportRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		doc  string
		path string // a config.Errors path the error must name, if any
	}{
		"unknown config field":    {doc: `{"system": {"hostname": "x", "colour": "red"}}`, path: "system.colour"},
		"unknown field in export": {doc: `{"schema": 1, "revision": 3, "config": {"system": {"colour": "red"}}}`, path: "system.colour"},
		"invalid config":          {doc: edit(seedJSON, `"port": 80,`+"\n", `"port": 70000,`+"\n"), path: "virtual_services[web].port"},
		"unknown export field":    {doc: `{"schema": 1, "revision": 3, "config": {}, "extra": 1}`},
		"other schema":            {doc: fmt.Sprintf(`{"schema": %d, "revision": 3, "config": {}}`, config.SchemaVersion+1)},
		"not json":                {doc: `schema`},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := open(t)
			_, err := s.Import([]byte(tc.doc), 0, Meta{})
			if err == nil {
				t.Fatal("imported")
			}
			if tc.path != "" {
				var es config.Errors
				if !errors.As(err, &es) || !strings.Contains(err.Error(), tc.path) {
					t.Fatalf("error %v does not name %s", err, tc.path)
				}
			}
			if empty, _ := s.Empty(); !empty {
				t.Fatal("something was stored")
			}
		})
	}
}
