package config

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// maxDocument bounds the size of a document Decode accepts.
const maxDocument = 16 << 20

// Decode reads one JSON document into a Config. Unknown fields, wrong JSON types and
// unparsable addresses are all reported together as Errors, each naming its path.
// Decode does not validate: call Validate on the result.
func Decode(r io.Reader) (Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return Config{}, fmt.Errorf("config: read: %w", err)
	}
	if len(data) > maxDocument {
		return Config{}, fmt.Errorf("config: document larger than %d bytes", maxDocument)
	}
	return DecodeBytes(data)
}

// DecodeBytes is Decode for a document already in memory.
func DecodeBytes(data []byte) (Config, error) {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Config{}, fmt.Errorf("config: %w", syntaxError(data, err))
	}
	if dec.More() {
		return Config{}, errors.New("config: trailing data after the JSON document")
	}
	var errs Errors
	check(&errs, "", raw, reflect.TypeFor[Config]())
	if len(errs) > 0 {
		return Config{}, errs
	}
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		// check accepted the shape, so this is a gap in check: still fail loudly.
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// syntaxError adds a line and column to JSON syntax errors.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	line := 1 + bytes.Count(data[:se.Offset], []byte("\n"))
	col := int(se.Offset) - bytes.LastIndexByte(data[:se.Offset], '\n') - 1
	return fmt.Errorf("line %d column %d: %w", line, col, err)
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// check walks a generic JSON value against the Go type it will be decoded into and
// records every mismatch. It understands exactly the kinds the model uses.
func check(errs *Errors, path string, v any, t reflect.Type) {
	if v == nil {
		// null leaves the zero value, as encoding/json does.
		return
	}
	if isText(t) {
		s, ok := v.(string)
		if !ok {
			errs.add(path, "want a string, got %s", jsonKind(v))
			return
		}
		u := reflect.New(t).Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(s)); err != nil {
			errs.add(path, "%q: %s", s, textError(err))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		check(errs, path, v, t.Elem())
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			errs.add(path, "want an object, got %s", jsonKind(v))
			return
		}
		info := structOf(t)
		for _, f := range info.ordered {
			if fv, ok := obj[f.name]; ok {
				check(errs, join(path, f.name), fv, f.typ)
			}
		}
		if len(obj) > len(info.ordered) || hasUnknown(obj, info.byName) {
			for _, key := range sortedKeys(obj) {
				if _, ok := info.byName[key]; !ok {
					errs.add(join(path, key), "unknown field")
				}
			}
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			errs.add(path, "want a list, got %s", jsonKind(v))
			return
		}
		for i, e := range arr {
			name := ""
			if obj, ok := e.(map[string]any); ok {
				name, _ = obj["name"].(string)
			}
			check(errs, elem(path, i, name), e, t.Elem())
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			errs.add(path, "want an object, got %s", jsonKind(v))
			return
		}
		for _, key := range sortedKeys(obj) {
			check(errs, fmt.Sprintf("%s[%s]", path, key), obj[key], t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			errs.add(path, "want a string, got %s", jsonKind(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			errs.add(path, "want true or false, got %s", jsonKind(v))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			errs.add(path, "want a whole number, got %s", jsonKind(v))
			return
		}
		i, err := n.Int64()
		if err != nil {
			errs.add(path, "%s is not a whole number", n)
			return
		}
		if lo, hi := intRange(t); i < lo || i > hi {
			errs.add(path, "%d is out of range (%d-%d)", i, lo, hi)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			errs.add(path, "want a number, got %s", jsonKind(v))
		}
	default:
		errs.add(path, "field of unsupported Go kind %s", t.Kind())
	}
}

// intRange is the range a Go integer type can hold, clipped to int64.
func intRange(t reflect.Type) (lo, hi int64) {
	bits := t.Bits()
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if bits >= 63 {
			return 0, math.MaxInt64
		}
		return 0, 1<<bits - 1
	}
	if bits == 64 {
		return math.MinInt64, math.MaxInt64
	}
	return -(1 << (bits - 1)), 1<<(bits-1) - 1
}

// jsonFields maps the JSON names of t's exported fields to the fields. The map is
// shared: do not modify it.
func jsonFields(t reflect.Type) map[string]reflect.StructField { return structOf(t).byName }

// structInfo is what check needs to know about a struct type, computed once.
type structInfo struct {
	ordered []jsonField // in declaration order
	byName  map[string]reflect.StructField
}

type jsonField struct {
	name string
	typ  reflect.Type
}

var (
	structCache sync.Map // reflect.Type -> *structInfo
	textCache   sync.Map // reflect.Type -> bool
)

// isText reports whether *t implements encoding.TextUnmarshaler.
func isText(t reflect.Type) bool {
	if v, ok := textCache.Load(t); ok {
		return v.(bool)
	}
	ok := reflect.PointerTo(t).Implements(textUnmarshaler)
	textCache.Store(t, ok)
	return ok
}

func structOf(t reflect.Type) *structInfo {
	if v, ok := structCache.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: map[string]reflect.StructField{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name := JSONName(f)
		if !f.IsExported() || name == "-" {
			continue
		}
		info.ordered = append(info.ordered, jsonField{name, f.Type})
		info.byName[name] = f
	}
	v, _ := structCache.LoadOrStore(t, info)
	return v.(*structInfo)
}

func hasUnknown(obj map[string]any, known map[string]reflect.StructField) bool {
	for k := range obj {
		if _, ok := known[k]; !ok {
			return true
		}
	}
	return false
}

// JSONName is the name a struct field has in JSON ("-" when it is skipped).
func JSONName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if tag == "-" {
		return "-"
	}
	if name == "" {
		return f.Name
	}
	return name
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // stable order for error lists

	return keys
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// funcPrefix matches the `netip.ParseAddr("x"): ` style prefixes of parse errors.
var funcPrefix = regexp.MustCompile(`^[\w.]+\(".*?"\): `)

// textError strips the function-call prefixes netip puts on its messages; the caller
// already quotes the input.
func textError(err error) string {
	msg := err.Error()
	for {
		loc := funcPrefix.FindStringIndex(msg)
		if loc == nil {
			return msg
		}
		msg = msg[loc[1]:]
	}
}
