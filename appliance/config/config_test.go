package config

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDecodeDraftExample(t *testing.T) {
	c := decodeFile(t, "testdata/draft.json")
	if err := c.Validate(); err != nil {
		t.Fatalf("draft example does not validate: %v", err)
	}
	if c.System.Hostname != "lvsbox" || len(c.Interfaces) != 2 || len(c.Routes) != 1 || len(c.VirtualServices) != 1 {
		t.Fatalf("unexpected shape: %+v", c)
	}
	if got, want := c.Interfaces[0].Addresses[1], netip.MustParsePrefix("192.0.2.100/32"); got != want {
		t.Errorf("interfaces[0].addresses[1] = %v, want %v", got, want)
	}
	vs := c.VirtualServices[0]
	if vs.Forwarding != ForwardingNAT || vs.Scheduler != "wrr" || vs.Port != 80 || vs.RealServers[0].EffectiveWeight() != 3 {
		t.Errorf("unexpected virtual service: %+v", vs)
	}
}

// TestSeedsValidate keeps the seeds shipped with boards valid.
func TestSeedsValidate(t *testing.T) {
	for _, name := range []string{"../../board/qemu-x86_64/seed.json"} {
		if err := decodeFile(t, name).Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFullExampleIsValidAndClean(t *testing.T) {
	c := decodeFile(t, fullExample)
	if err := c.Validate(); err != nil {
		t.Fatalf("full example does not validate:\n%s", strings.Join(lines(fieldErrors(t, err)), "\n"))
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("full example has warnings:\n%s", strings.Join(lines(w), "\n"))
	}
	env := Env{
		Links:       []HostLink{{Name: "eth0", MAC: "52:54:00:00:00:01"}, {Name: "eth1"}, {Name: "eth2"}},
		Schedulers:  Schedulers,
		TunnelTypes: []TunnelType{TunnelIPIP, TunnelGUE, TunnelGRE},
	}
	if err := c.ValidateWith(env); err != nil {
		t.Errorf("full example does not validate against a system that has everything: %v", err)
	}
}

// TestFullExampleRoundTrips: decode then encode loses and changes nothing.
func TestFullExampleRoundTrips(t *testing.T) {
	data, err := os.ReadFile(fullExample)
	if err != nil {
		t.Fatal(err)
	}
	c := decodeFile(t, fullExample)
	out, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var before, after any
	if err := json.Unmarshal(data, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &after); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("JSON changed by a round trip:\n%s", out)
	}
	again, err := DecodeBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, again) {
		t.Error("decoding the encoded config gives a different Config")
	}
	// The defaulted form round-trips too.
	d := c.WithDefaults()
	out, _ = json.Marshal(d)
	if again, err := DecodeBytes(out); err != nil || !reflect.DeepEqual(d, again) {
		t.Errorf("defaulted config does not round-trip (err %v)", err)
	}
}

// TestFullExampleUsesEveryField keeps the example full-featured: every field of
// every object of the model is set somewhere in it.
func TestFullExampleUsesEveryField(t *testing.T) {
	data, err := os.ReadFile(fullExample)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	used := map[reflect.Type]map[string]bool{}
	markUsed(used, doc, reflect.TypeFor[Config]())
	for typ, fields := range jsonObjects(reflect.TypeFor[Config]()) {
		for _, f := range fields {
			if !used[typ][f] {
				t.Errorf("%s.%s (%s) is not used in %s", typ.Name(), f, typ, fullExample)
			}
		}
	}
}

func markUsed(used map[reflect.Type]map[string]bool, v any, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case []any:
		if t.Kind() == reflect.Slice {
			for _, e := range x {
				markUsed(used, e, t.Elem())
			}
		}
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return
		}
		if used[t] == nil {
			used[t] = map[string]bool{}
		}
		fields := jsonFields(t)
		for k, e := range x {
			used[t][k] = true
			if f, ok := fields[k]; ok {
				markUsed(used, e, f.Type)
			}
		}
	}
}

// jsonObjects lists the JSON field names of every struct type reachable from t
// (leaf types such as netip.Addr and time.Time excluded).
func jsonObjects(t reflect.Type) map[reflect.Type][]string {
	out := map[reflect.Type][]string{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || isLeaf(t) {
			return
		}
		if _, seen := out[t]; seen {
			return
		}
		out[t] = nil
		for name, f := range jsonFields(t) {
			out[t] = append(out[t], name)
			walk(f.Type)
		}
		slices.Sort(out[t])
	}
	walk(t)
	return out
}

func TestDecodeReportsEveryShapeProblemWithPath(t *testing.T) {
	doc := `{
	  "system": {"hostname": "x", "colour": "red"},
	  "interfaces": [{"name": "eth0", "addresses": ["192.0.2.2"]}],
	  "routes": [{"destination": "0.0.0.0/0", "gateway": 7}],
	  "virtual_services": [{"name": "web", "address": "192.0.2.300", "port": "80",
	    "health_check": {"type": "tcp", "interval": "5 seconds", "timeout": "-1s", "rise": 1.5},
	    "real_servers": [{"address": "198.51.100.1", "wieght": 2, "upper_threshold": -1}]}],
	  "vrrp_instances": [{"name": "v1", "interface": "eth0", "vrid": 1, "advert_interval": 1,
	    "garp": {"cout": 3}, "virtual_addresses": [{"address": "192.0.2.9/32"}]}],
	  "users": [{"name": "a", "role": "admin", "tokens": [{"name": "t", "hash": "h", "created": "yesterday"}]}],
	  "sysctls": {"net.core.somaxconn": 4096}
	}`
	_, err := DecodeBytes([]byte(doc))
	got := lines(fieldErrors(t, err))
	want := []string{
		`system.colour: unknown field`,
		`interfaces[eth0].addresses[0]: "192.0.2.2": no '/'`,
		`routes[0].gateway: want a string, got a number`,
		`sysctls[net.core.somaxconn]: want a string, got a number`,
		`virtual_services[web].address: "192.0.2.300": IPv4 field has value >255`,
		`virtual_services[web].port: want a whole number, got a string`,
		`virtual_services[web].health_check.interval: "5 seconds": not a duration (write a number and a unit: "1s", "150ms", "2m30s")`,
		`virtual_services[web].health_check.timeout: "-1s": a duration cannot be negative`,
		`virtual_services[web].health_check.rise: 1.5 is not a whole number`,
		`virtual_services[web].real_servers[0].upper_threshold: -1 is out of range (0-4294967295)`,
		`virtual_services[web].real_servers[0].wieght: unknown field`,
		`vrrp_instances[v1].advert_interval: want a string, got a number`,
		`vrrp_instances[v1].garp.cout: unknown field`,
		`users[a].tokens[t].created: "yesterday": parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got:\n\t%s\nwant:\n\t%s", join4(got), join4(want))
	}
}

func TestDecodeSyntaxErrorHasPosition(t *testing.T) {
	_, err := DecodeBytes([]byte("{\n  \"system\": {,}\n}"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want a syntax error on line 2, got %v", err)
	}
	if _, err := DecodeBytes([]byte(`{} {}`)); err == nil {
		t.Fatal("trailing document accepted")
	}
	if _, err := DecodeBytes([]byte(`[]`)); err == nil {
		t.Fatal("a list accepted as the document")
	}
	if _, err := Decode(bytes.NewReader(make([]byte, maxDocument+1))); err == nil {
		t.Fatal("oversized document accepted")
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]string{"1s": "1s", "150ms": "150ms", "60s": "1m", "90m": "1h30m", "2h0m0s": "2h", "0": "0s", "1h0m5s": "1h0m5s"} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		b, _ := d.MarshalText()
		if string(b) != want {
			t.Errorf("%q formats as %q, want %q", in, b, want)
		}
		var back Duration
		if err := back.UnmarshalText(b); err != nil || back != d {
			t.Errorf("%q does not parse back (%v, %v)", b, back, err)
		}
	}
	for _, bad := range []string{"", "5", "1 s", "-1s", "soon"} {
		var d Duration
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q accepted as %v", bad, d)
		}
	}
	if Duration(1500*time.Millisecond).D() != 1500*time.Millisecond {
		t.Error("D() does not convert")
	}
}

func TestValidateReturnsErrorsType(t *testing.T) {
	c := Config{VirtualServices: []VirtualService{{Name: "web", Address: addr("192.0.2.1"), Port: 70000}}}
	err := c.Validate()
	es := fieldErrors(t, err)
	if len(es) != 1 || es[0].Path != "virtual_services[web].port" || es[0].Msg != "70000 is not a port (1-65535)" {
		t.Fatalf("got %#v", es)
	}
	if err.Error() != "virtual_services[web].port: 70000 is not a port (1-65535)" {
		t.Errorf("Error() = %q", err)
	}
	if (Config{}).Validate() != nil {
		t.Error("the empty config is not valid")
	}
}

func TestElementPaths(t *testing.T) {
	for _, c := range []struct {
		name string
		want string
	}{{"web", "l[web]"}, {"a.b", "l[a.b]"}, {"", "l[3]"}, {"42", "l[3]"}, {"a b", "l[3]"}, {"a]", "l[3]"}} {
		if got := elem("l", 3, c.name); got != c.want {
			t.Errorf("elem(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
