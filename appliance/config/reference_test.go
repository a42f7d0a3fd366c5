package config

import (
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const referenceDoc = "../../docs/config-reference.md"

// fieldPaths lists the JSON path of every field reachable from t, lists written as
// `name[]`, e.g. `virtual_services[].real_servers[].weight`.
func fieldPaths(prefix string, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[netip.Addr]() || t == reflect.TypeFor[netip.Prefix]() {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := JSONName(f)
		if !f.IsExported() || name == "-" {
			continue
		}
		p := join(prefix, name)
		out = append(out, p)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice {
			out = append(out, fieldPaths(p+"[]", ft)...)
		} else {
			out = append(out, fieldPaths(p, ft)...)
		}
	}
	return out
}

// TestReferenceDocCoversModel keeps docs/config-reference.md and the model in step:
// every JSON field has a table row, and every table row is a JSON field.
func TestReferenceDocCoversModel(t *testing.T) {
	data, err := os.ReadFile(referenceDoc)
	if err != nil {
		t.Fatalf("read reference: %v", err)
	}
	rows := map[string]bool{}
	rowRE := regexp.MustCompile("(?m)^\\|\\s*`([a-z_\\[\\].]+)`\\s*\\|")
	for _, m := range rowRE.FindAllStringSubmatch(string(data), -1) {
		rows[m[1]] = true
	}
	model := fieldPaths("", reflect.TypeFor[Config]())
	if len(model) < 15 {
		t.Fatalf("reflection found only %d fields: %q", len(model), model)
	}
	for _, p := range model {
		if !rows[p] {
			t.Errorf("%s: field of the model has no row in %s", p, referenceDoc)
		}
	}
	for p := range rows {
		if !slices.Contains(model, p) {
			t.Errorf("%s: row in %s is not a field of the model", p, referenceDoc)
		}
	}
	// The defaults the doc states must be the ones the code applies.
	for _, d := range []string{"`" + string(DefaultProtocol) + "`", "`" + DefaultScheduler + "`", "`" + string(DefaultForwarding) + "`"} {
		if !strings.Contains(string(data), d) {
			t.Errorf("default %s not mentioned in %s", d, referenceDoc)
		}
	}
}
