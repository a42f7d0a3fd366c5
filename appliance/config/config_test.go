package config

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

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

// paths returns the paths of err's FieldErrors, failing when err is not Errors.
func paths(t *testing.T, err error) []string {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T) is not config.Errors", err, err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Path)
	}
	return out
}

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

func TestDecodeReportsEveryShapeProblemWithPath(t *testing.T) {
	doc := `{
	  "system": {"hostname": "x", "colour": "red"},
	  "interfaces": [{"name": "eth0", "addresses": ["192.0.2.2"]}],
	  "routes": [{"destination": "0.0.0.0/0", "gateway": 7}],
	  "virtual_services": [{"name": "web", "address": "192.0.2.300", "port": "80",
	    "real_servers": [{"address": "198.51.100.1", "wieght": 2}]}]
	}`
	_, err := DecodeBytes([]byte(doc))
	got := paths(t, err)
	want := []string{
		"system.colour",
		"interfaces[eth0].addresses[0]",
		"routes[0].gateway",
		"virtual_services[web].address",
		"virtual_services[web].port",
		"virtual_services[web].real_servers[0].wieght",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paths = %q\nwant    %q\n(error: %v)", got, want, err)
	}
	if !strings.Contains(err.Error(), "system.colour: unknown field") {
		t.Errorf("unknown field not named in %q", err)
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
}

func TestValidateReportsAllErrors(t *testing.T) {
	w := 70000
	c := Config{
		System:     System{Hostname: "-bad-"},
		Interfaces: []Interface{{Name: "eth0", Addresses: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}}, {Name: "eth0"}, {Name: "this-name-is-too-long"}},
		Routes: []Route{
			{Destination: netip.MustParsePrefix("10.1.2.3/8"), Gateway: netip.MustParseAddr("192.0.2.1")},
			{Destination: netip.MustParsePrefix("2001:db8::/32"), Gateway: netip.MustParseAddr("192.0.2.1")},
		},
		VirtualServices: []VirtualService{
			{Name: "web", Protocol: "icmp", Address: netip.MustParseAddr("192.0.2.100"), Port: 80, Scheduler: "fastest", Forwarding: "nat",
				RealServers: []RealServer{
					{Address: netip.MustParseAddr("198.51.100.11"), Port: 8080},
					{Address: netip.MustParseAddr("2001:db8::1")},
					{Address: netip.MustParseAddr("198.51.100.12"), Port: 70000, Weight: &w, Forwarding: "bridge"},
					{Address: netip.MustParseAddr("198.51.100.13"), Port: 8080, Forwarding: "dr"},
					{Address: netip.MustParseAddr("198.51.100.11"), Port: 8080},
				}},
			{Name: "web", Address: netip.MustParseAddr("192.0.2.100"), Port: 0},
			{Address: netip.MustParseAddr("192.0.2.101"), Port: 443},
		},
	}
	err := c.Validate()
	got := paths(t, err)
	want := []string{
		"system.hostname",
		"interfaces[eth0].name",
		"interfaces[this-name-is-too-long].name",
		"routes[0].destination",
		"routes[1].gateway",
		"virtual_services[web].protocol",
		"virtual_services[web].scheduler",
		"virtual_services[web].real_servers[1].address",
		"virtual_services[web].real_servers[2].port",
		"virtual_services[web].real_servers[2].weight",
		"virtual_services[web].real_servers[2].forwarding",
		"virtual_services[web].real_servers[3].port",
		"virtual_services[web].real_servers[4]",
		"virtual_services[web].port",
		"virtual_services[web].name",
		"virtual_services[2].name",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paths =\n%q\nwant\n%q\n(error: %v)", got, want, err)
	}
	for _, frag := range []string{
		"virtual_services[web].real_servers[2].port: 70000 is not a port (1-65535)",
		"routes[0].destination: 10.1.2.3/8 has host bits set (did you mean 10.0.0.0/8?)",
	} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error lacks %q:\n%v", frag, err)
		}
	}
}

func TestValidateDuplicates(t *testing.T) {
	c := decodeFile(t, "testdata/draft.json")
	c.Interfaces[1].Addresses = append(c.Interfaces[1].Addresses, netip.MustParsePrefix("192.0.2.2/32"))
	dup := c.VirtualServices[0]
	dup.Name = "web2"
	c.VirtualServices = append(c.VirtualServices, dup)
	c.Routes = append(c.Routes, c.Routes[0])
	got := paths(t, c.Validate())
	want := []string{"interfaces[eth1].addresses[1]", "routes[1].destination", "virtual_services[web2]"}
	if !slices.Equal(got, want) {
		t.Fatalf("paths = %q, want %q", got, want)
	}
}

func TestWithDefaults(t *testing.T) {
	zero := 0
	c := Config{VirtualServices: []VirtualService{{
		Name: "dns", Address: netip.MustParseAddr("192.0.2.53"), Port: 53,
		RealServers: []RealServer{
			{Address: netip.MustParseAddr("198.51.100.1")},
			{Address: netip.MustParseAddr("198.51.100.2"), Weight: &zero, Forwarding: ForwardingTun},
		},
	}}}
	d := c.WithDefaults()
	vs := d.VirtualServices[0]
	if vs.Protocol != DefaultProtocol || vs.Scheduler != DefaultScheduler || vs.Forwarding != DefaultForwarding {
		t.Errorf("service defaults not applied: %+v", vs)
	}
	if rs := vs.RealServers[0]; rs.Port != 53 || rs.Weight == nil || *rs.Weight != DefaultWeight || rs.Forwarding != DefaultForwarding {
		t.Errorf("real server defaults not applied: %+v", rs)
	}
	if rs := vs.RealServers[1]; *rs.Weight != 0 || rs.Forwarding != ForwardingTun {
		t.Errorf("explicit values overridden: %+v", rs)
	}
	// The original is untouched (deep copy).
	if c.VirtualServices[0].Protocol != "" || c.VirtualServices[0].RealServers[0].Weight != nil {
		t.Errorf("WithDefaults modified its receiver: %+v", c.VirtualServices[0])
	}
	*d.VirtualServices[0].RealServers[1].Weight = 9
	if zero != 0 {
		t.Error("WithDefaults shares weight pointers with its receiver")
	}
	if err := d.Validate(); err != nil {
		t.Errorf("defaulted config does not validate: %v", err)
	}
}
