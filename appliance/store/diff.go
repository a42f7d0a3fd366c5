package store

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	bolt "go.etcd.io/bbolt"
)

// Change is one difference between two configurations.
type Change struct {
	// Path names the field in the notation of validation errors:
	// `virtual_services[web].real_servers[2].weight`. List elements with a name are
	// named by it, others by their index (in the newer list, or in the older one for
	// a removal); map entries by their key.
	Path string `json:"path"`
	// Op is "add", "remove" or "change".
	Op string `json:"op"`
	// Old and New are the JSON values before and after (absent for add/remove).
	Old json.RawMessage `json:"old,omitempty"`
	New json.RawMessage `json:"new,omitempty"`
}

// Diff operations.
const (
	OpAdd    = "add"
	OpRemove = "remove"
	OpChange = "change"
)

// Diff returns the changes that turn revision a's configuration into revision b's
// (revision 0 is the empty configuration). Lists whose elements all have distinct
// names are matched by name, so a reordering is no change; other lists are aligned on
// equal elements, so removing one element reports one removal.
func (s *Store) Diff(a, b uint64) ([]Change, error) {
	var docA, docB []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if docA, err = docOf(tx, a); err != nil {
			return err
		}
		docB, err = docOf(tx, b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: diff %d %d: %w", a, b, err)
	}
	changes, err := DiffJSON(docA, docB)
	if err != nil {
		return nil, fmt.Errorf("store: diff %d %d: %w", a, b, err)
	}
	return changes, nil
}

// docOf returns revision n's JSON; revision 0 is the empty document.
func docOf(tx *bolt.Tx, n uint64) ([]byte, error) {
	if n == 0 {
		return []byte("{}"), nil
	}
	if tx.Bucket(bucketRevisions).Get(key(n)) == nil {
		return nil, fmt.Errorf("revision %d: %w", n, ErrNotFound)
	}
	return readSnapshot(tx, n)
}

// DiffJSON is Diff for two configuration documents.
func DiffJSON(a, b []byte) ([]Change, error) {
	va, err := parseGeneric(a)
	if err != nil {
		return nil, err
	}
	vb, err := parseGeneric(b)
	if err != nil {
		return nil, err
	}
	d := differ{out: []Change{}}
	d.value("", va, vb, reflect.TypeFor[config.Config]())
	return d.out, nil
}

func parseGeneric(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

type differ struct{ out []Change }

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil { // generic JSON values always marshal
		panic(err)
	}
	return b
}

func (d *differ) add(path string, v any) {
	d.out = append(d.out, Change{Path: path, Op: OpAdd, New: raw(v)})
}

func (d *differ) remove(path string, v any) {
	d.out = append(d.out, Change{Path: path, Op: OpRemove, Old: raw(v)})
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// value compares a and b found at path; t is their Go type in the model (nil when
// unknown, e.g. a field an older model had).
func (d *differ) value(path string, a, b any, t reflect.Type) {
	if reflect.DeepEqual(a, b) {
		return
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && reflect.PointerTo(t).Implements(textUnmarshaler) {
		t = nil // a scalar in JSON, whatever its Go kind
	}
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			d.object(path, av, bv, t)
			return
		}
	case []any:
		if bv, ok := b.([]any); ok {
			var et reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				et = t.Elem()
			}
			d.list(path, av, bv, et)
			return
		}
	}
	d.out = append(d.out, Change{Path: path, Op: OpChange, Old: raw(a), New: raw(b)})
}

// object compares a JSON object: a struct's fields (in declaration order, then any
// unknown ones sorted) or a map's entries (sorted, as path[key]).
func (d *differ) object(path string, a, b map[string]any, t reflect.Type) {
	isMap := t != nil && t.Kind() == reflect.Map
	var names []string
	types := map[string]reflect.Type{}
	if t != nil && t.Kind() == reflect.Struct {
		structFields(t, &names, types)
	}
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	var rest []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				rest = append(rest, k)
			}
		}
	}
	slices.Sort(rest)
	for _, k := range append(names, rest...) {
		p := join(path, k)
		et := types[k]
		if isMap {
			p, et = fmt.Sprintf("%s[%s]", path, k), t.Elem()
		}
		av, inA := a[k]
		bv, inB := b[k]
		switch {
		case inA && inB:
			d.value(p, av, bv, et)
		case inA:
			d.remove(p, av)
		case inB:
			d.add(p, bv)
		}
	}
}

// structFields lists t's JSON field names in declaration order, flattening embedded
// structs as encoding/json does.
func structFields(t reflect.Type, names *[]string, types map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := config.JSONName(f)
		if name == "-" {
			continue
		}
		if f.Anonymous && f.Tag.Get("json") == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				structFields(ft, names, types)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if _, dup := types[name]; !dup {
			*names = append(*names, name)
		}
		types[name] = f.Type
	}
}

// list compares two JSON lists of elements of Go type et.
func (d *differ) list(path string, a, b []any, et reflect.Type) {
	if namedList(a) && namedList(b) {
		d.namedList(path, a, b, et)
		return
	}
	pairs := align(a, b)
	i, j := 0, 0
	for _, p := range append(pairs, [2]int{len(a), len(b)}) {
		// Unmatched runs a[i:p[0]] and b[j:p[1]]: pair them up positionally, the rest
		// are removals or additions.
		for i < p[0] && j < p[1] {
			d.value(elemPath(path, j, b[j]), a[i], b[j], et)
			i, j = i+1, j+1
		}
		for ; i < p[0]; i++ {
			d.remove(elemPath(path, i, a[i]), a[i])
		}
		for ; j < p[1]; j++ {
			d.add(elemPath(path, j, b[j]), b[j])
		}
		i, j = p[0]+1, p[1]+1
	}
}

// namedList matches elements by name.
func (d *differ) namedList(path string, a, b []any, et reflect.Type) {
	inB := map[string]any{}
	for _, e := range b {
		inB[nameOf(e)] = e
	}
	inA := map[string]bool{}
	for _, e := range a {
		n := nameOf(e)
		inA[n] = true
		p := fmt.Sprintf("%s[%s]", path, n)
		if be, ok := inB[n]; ok {
			d.value(p, e, be, et)
		} else {
			d.remove(p, e)
		}
	}
	for _, e := range b {
		if n := nameOf(e); !inA[n] {
			d.add(fmt.Sprintf("%s[%s]", path, n), e)
		}
	}
}

// nameOf is an element's "name" when it can appear in a path (the rule of
// config's validation paths), else "".
func nameOf(e any) string {
	obj, ok := e.(map[string]any)
	if !ok {
		return ""
	}
	name, _ := obj["name"].(string)
	if name == "" || strings.ContainsAny(name, "[]. ") {
		return ""
	}
	return name
}

// namedList reports whether every element has a usable, distinct name.
func namedList(l []any) bool {
	seen := make(map[string]bool, len(l))
	for _, e := range l {
		n := nameOf(e)
		if n == "" || seen[n] {
			return false
		}
		seen[n] = true
	}
	return true
}

func elemPath(path string, i int, e any) string {
	if n := nameOf(e); n != "" {
		return fmt.Sprintf("%s[%s]", path, n)
	}
	return fmt.Sprintf("%s[%d]", path, i)
}

func join(parent, field string) string {
	if parent == "" {
		return field
	}
	return parent + "." + field
}

// maxAlign bounds the work of the longest-common-subsequence alignment; longer
// lists (after trimming their common ends) are compared position by position.
const maxAlign = 1 << 20

// align returns the index pairs (i in a, j in b) of equal elements that form a
// longest common subsequence, in increasing order.
func align(a, b []any) [][2]int {
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, e := range a {
		ka[i] = string(raw(e))
	}
	for j, e := range b {
		kb[j] = string(raw(e))
	}
	var pairs [][2]int
	lo := 0
	for lo < len(ka) && lo < len(kb) && ka[lo] == kb[lo] {
		pairs = append(pairs, [2]int{lo, lo})
		lo++
	}
	ha, hb := len(ka), len(kb)
	var tail [][2]int
	for ha > lo && hb > lo && ka[ha-1] == kb[hb-1] {
		ha, hb = ha-1, hb-1
		tail = append(tail, [2]int{ha, hb})
	}
	n, m := ha-lo, hb-lo
	if n > 0 && m > 0 && n*m <= maxAlign {
		// lcs[i][j] = length of the LCS of ka[lo+i:ha] and kb[lo+j:hb].
		lcs := make([][]int32, n+1)
		for i := range lcs {
			lcs[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if ka[lo+i] == kb[lo+j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		for i, j := 0, 0; i < n && j < m; {
			switch {
			case ka[lo+i] == kb[lo+j]:
				pairs = append(pairs, [2]int{lo + i, lo + j})
				i, j = i+1, j+1
			case lcs[i+1][j] >= lcs[i][j+1]:
				i++
			default:
				j++
			}
		}
	}
	for k := len(tail) - 1; k >= 0; k-- {
		pairs = append(pairs, tail[k])
	}
	return pairs
}
