package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lvsbox/lvsbox/appliance/config"
	bolt "go.etcd.io/bbolt"
)

// exportDoc is the document Export writes: {"schema","revision","config"}.
type exportDoc struct {
	// Schema is config.SchemaVersion of the configuration document.
	Schema   int             `json:"schema"`
	Revision uint64          `json:"revision"`
	Config   json.RawMessage `json:"config"`
}

// Export returns the current revision as an indented JSON document
// {"schema": N, "revision": N, "config": {...}}. An empty store exports revision 0
// with the empty configuration.
func (s *Store) Export() ([]byte, error) {
	doc := exportDoc{Schema: config.SchemaVersion, Config: json.RawMessage("{}")}
	err := s.db.View(func(tx *bolt.Tx) error {
		h, ok, err := lastHeader(tx)
		if err != nil || !ok {
			return err
		}
		doc.Revision, doc.Schema = h.Number, h.ConfigSchema
		doc.Config, err = readSnapshot(tx, h.Number)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: export: %w", err)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("store: export: %w", err)
	}
	return append(out, '\n'), nil
}

// Import decodes data, either an Export document or a bare configuration, and
// commits it like Apply (strict decoding: every unknown field is an error naming its
// path relative to the configuration). The comment defaults to "import" (with the
// exported revision's number when known).
func (s *Store) Import(data []byte, base uint64, m Meta) (RevisionInfo, error) {
	cfg, from, err := decodeImport(data)
	if err != nil {
		return RevisionInfo{}, fmt.Errorf("store: import: %w", err)
	}
	if m.Comment == "" {
		m.Comment = "import"
		if from > 0 {
			m.Comment = fmt.Sprintf("import of exported revision %d", from)
		}
	}
	ri, err := s.commit(base, cfg, m, 0)
	if err != nil {
		return RevisionInfo{}, fmt.Errorf("store: import: %w", err)
	}
	return ri, nil
}

// decodeImport tells an Export document (an object with "schema" and "config") from a
// bare configuration and decodes it; from is the exported revision number (0 when
// unknown).
func decodeImport(data []byte) (cfg config.Config, from uint64, err error) {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) == nil && top["schema"] != nil && top["config"] != nil {
		for k := range top {
			if !slices.Contains([]string{"schema", "revision", "config"}, k) {
				return cfg, 0, fmt.Errorf("export document: unknown field %q", k)
			}
		}
		var doc exportDoc
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			return cfg, 0, fmt.Errorf("export document: %w", err)
		}
		if doc.Schema != config.SchemaVersion {
			return cfg, 0, fmt.Errorf("export document has configuration schema %d; this version reads schema %d",
				doc.Schema, config.SchemaVersion)
		}
		cfg, err = config.DecodeBytes(doc.Config)
		return cfg, doc.Revision, err
	}
	cfg, err = config.DecodeBytes(data)
	return cfg, 0, err
}
