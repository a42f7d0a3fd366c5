package config

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"testing"
)

// fullExample is the full-featured example in testdata: valid, no warnings.
const fullExample = "testdata/full.json"

func decodeFile(t *testing.T, name string) Config {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return c
}

// fieldErrors unwraps err into its FieldErrors (none for nil).
func fieldErrors(t *testing.T, err error) Errors {
	t.Helper()
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T) is not config.Errors", err, err)
	}
	return es
}

// lines renders FieldErrors as "path: message" lines.
func lines(es []FieldError) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Error())
	}
	return out
}

// editRow is one row of a table that edits the full example and expects exactly
// the listed errors (or warnings), each as "path: message".
type editRow struct {
	name string
	env  Env
	edit func(c *Config)
	want []string
}

func runEditRows(t *testing.T, rows []editRow, result func(c Config, env Env) []string) {
	t.Helper()
	names := map[string]bool{}
	for _, r := range rows {
		if names[r.name] {
			t.Fatalf("row name %q used twice", r.name)
		}
		names[r.name] = true
		t.Run(r.name, func(t *testing.T) {
			c := decodeFile(t, fullExample)
			r.edit(&c)
			got := result(c, r.env)
			if !slices.Equal(got, r.want) {
				t.Errorf("got:\n\t%s\nwant:\n\t%s", join4(got), join4(r.want))
			}
		})
	}
}

func join4(s []string) string {
	if len(s) == 0 {
		return "(nothing)"
	}
	out := ""
	for i, l := range s {
		if i > 0 {
			out += "\n\t"
		}
		out += "`" + l + "`"
	}
	return out
}

func svc(c *Config, name string) *VirtualService {
	for i := range c.VirtualServices {
		if c.VirtualServices[i].Name == name {
			return &c.VirtualServices[i]
		}
	}
	panic("no service " + name)
}

func ifc(c *Config, name string) *Interface {
	for i := range c.Interfaces {
		if c.Interfaces[i].Name == name {
			return &c.Interfaces[i]
		}
	}
	panic("no interface " + name)
}

func inst(c *Config, name string) *VRRPInstance {
	for i := range c.VRRPInstances {
		if c.VRRPInstances[i].Name == name {
			return &c.VRRPInstances[i]
		}
	}
	panic("no instance " + name)
}

func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }
func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func intp(i int) *int           { return &i }
func boolp(b bool) *bool        { return &b }
func vas(ps ...string) []VirtualAddress {
	var out []VirtualAddress
	for _, p := range ps {
		out = append(out, VirtualAddress{Address: pfx(p)})
	}
	return out
}
