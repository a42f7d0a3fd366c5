package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// FormatVersion is the version of the on-disk layout this code writes. Files of an
// older version are migrated on Open (see migrate.go); newer files are refused.
//
//	1: revisions/<n> = {"number","time","comment","config":{...}}; meta/schema = "1"
//	2: revisions/<n> = header JSON; snapshots/<n> = codec byte + snapshot; meta/schema = "2"
const FormatVersion = 2

var (
	bucketMeta      = []byte("meta")
	bucketRevisions = []byte("revisions")
	bucketSnapshots = []byte("snapshots")
	keySchema       = []byte("schema")
)

// header is the value of revisions/<n>: everything about a revision but its snapshot,
// so that history never has to read snapshots.
type header struct {
	RevisionInfo
	// ConfigSchema is config.SchemaVersion of the snapshot's document format, so that a
	// future change of the document format can tell which snapshots to convert.
	ConfigSchema int `json:"config_schema"`
}

// Snapshot codecs: the first byte of a snapshots/<n> value.
const (
	codecJSON    byte = 'j' // plain JSON follows (never written today; read for robustness)
	codecDeflate byte = 'z' // raw DEFLATE (RFC 1951) of the JSON follows
)

// snapshotLevel is the DEFLATE level; see docs/store.md for the measurements behind it.
const snapshotLevel = flate.BestSpeed

// maxSnapshot bounds the size of a decompressed snapshot.
const maxSnapshot = 64 << 20

// key encodes a revision number so that byte order is numeric order.
func key(n uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, n)
}

// number decodes a key written by key.
func number(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("bad revision key %x", k)
	}
	return binary.BigEndian.Uint64(k), nil
}

// encodeSnapshot compresses the JSON of a configuration.
func encodeSnapshot(doc []byte) ([]byte, error) { return deflateSnapshot(doc, snapshotLevel) }

func deflateSnapshot(doc []byte, level int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(doc)/6 + 64)
	buf.WriteByte(codecDeflate)
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(doc); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeSnapshot returns the JSON of a stored snapshot. The result does not alias v
// (bbolt values are only valid inside their transaction).
func decodeSnapshot(v []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, fmt.Errorf("empty snapshot")
	}
	switch v[0] {
	case codecJSON:
		return bytes.Clone(v[1:]), nil
	case codecDeflate:
		r := flate.NewReader(bytes.NewReader(v[1:]))
		defer r.Close()
		doc, err := io.ReadAll(io.LimitReader(r, maxSnapshot+1))
		if err != nil {
			return nil, fmt.Errorf("decompress snapshot: %w", err)
		}
		if len(doc) > maxSnapshot {
			return nil, fmt.Errorf("snapshot larger than %d bytes", maxSnapshot)
		}
		return doc, nil
	}
	return nil, fmt.Errorf("unknown snapshot codec %q", v[0])
}

// readHeader reads revisions/<n>; ok is false when there is no such revision.
func readHeader(tx *bolt.Tx, n uint64) (h header, ok bool, err error) {
	v := tx.Bucket(bucketRevisions).Get(key(n))
	if v == nil {
		return header{}, false, nil
	}
	if err := json.Unmarshal(v, &h); err != nil {
		return header{}, false, fmt.Errorf("revision %d: header: %w", n, err)
	}
	return h, true, nil
}

// lastHeader reads the newest revision's header; ok is false for an empty store.
func lastHeader(tx *bolt.Tx) (h header, ok bool, err error) {
	k, v := tx.Bucket(bucketRevisions).Cursor().Last()
	if k == nil {
		return header{}, false, nil
	}
	if err := json.Unmarshal(v, &h); err != nil {
		return header{}, false, fmt.Errorf("revision %x: header: %w", k, err)
	}
	return h, true, nil
}

// putHeader writes revisions/<h.Number>.
func putHeader(tx *bolt.Tx, h header) error {
	v, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRevisions).Put(key(h.Number), v)
}

// readSnapshot returns the JSON snapshot of revision n.
func readSnapshot(tx *bolt.Tx, n uint64) ([]byte, error) {
	v := tx.Bucket(bucketSnapshots).Get(key(n))
	if v == nil {
		return nil, fmt.Errorf("revision %d: snapshot missing", n)
	}
	doc, err := decodeSnapshot(v)
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w", n, err)
	}
	return doc, nil
}
