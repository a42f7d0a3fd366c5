package healthd

import (
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/service"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// allSet fails for every zero field reachable from v: a field added to the
// configuration model must be added to the mapping test (and to SpecOf).
func allSet(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			t.Errorf("%s is not set in the test input", path)
			return
		}
		allSet(t, path, v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[netip.Addr]() {
			if !v.Interface().(netip.Addr).IsValid() {
				t.Errorf("%s is not set in the test input", path)
			}
			return
		}
		for i := range v.NumField() {
			allSet(t, path+"."+v.Type().Field(i).Name, v.Field(i))
		}
	default:
		if v.IsZero() {
			t.Errorf("%s is not set in the test input", path)
		}
	}
}

func TestSpecOfMapsEveryField(t *testing.T) {
	addr := netip.MustParseAddr
	common := config.HealthCheck{
		Interval: config.Duration(500 * time.Millisecond), Timeout: config.Duration(300 * time.Millisecond),
		Rise: 3, Fall: 4, Retries: 2, RetryDelay: config.Duration(100 * time.Millisecond),
		OnFailure: config.OnFailureQuiesce, TargetAddress: addr("198.51.100.250"), TargetPort: 8080,
		SourceAddress: addr("198.51.100.2"),
	}
	wantCommon := health.Spec{Interval: 500 * time.Millisecond, Timeout: 300 * time.Millisecond, Rise: 3, Fall: 4,
		Retries: 2, RetryDelay: 100 * time.Millisecond, Address: addr("198.51.100.250"), Port: 8080,
		Source: addr("198.51.100.2"), Initial: health.InitialDown}
	with := func(hc config.HealthCheck, typ config.CheckType) config.HealthCheck {
		out := common
		out.Type = typ
		out.TCP, out.HTTP, out.UDP, out.DNS, out.SMTP, out.Script = hc.TCP, hc.HTTP, hc.UDP, hc.DNS, hc.SMTP, hc.Script
		return out
	}
	spec := func(typ health.Type, f func(*health.Spec)) health.Spec {
		s := wantCommon
		s.Type = typ
		f(&s)
		return s
	}
	all := config.HealthCheck{
		TCP: &config.TCPCheck{HalfOpen: true},
		HTTP: &config.HTTPCheck{Method: "POST", Path: "/healthz", Host: "www.example.net", ExpectStatus: []string{"200", "301-302"},
			BodyContains: "ok", BodyRegex: "^up", BodyDigest: "9E107D9D372BB6826BD81D3542A419D6", SNI: "tls.example.net", Verify: true,
			ClientCert: "/etc/check.crt", ClientKey: "/etc/check.key"},
		UDP:    &config.UDPCheck{PayloadHex: "3c31", ExpectHex: "3e"},
		DNS:    &config.DNSCheck{Name: "example.net", Type: "AAAA", ExpectRcode: "NXDOMAIN", ExpectAnswer: "2001:db8::1"},
		SMTP:   &config.SMTPCheck{HeloName: "lb1.example.net"},
		Script: &config.ScriptCheck{Path: "/bin/check", Args: []string{"--quick"}, Timeout: config.Duration(2 * time.Second), DynamicWeight: true},
	}
	full := with(all, config.CheckHTTP)
	full.TCP, full.UDP, full.DNS, full.SMTP, full.Script = all.TCP, all.UDP, all.DNS, all.SMTP, all.Script
	allSet(t, "health_check", reflect.ValueOf(full))

	for _, c := range []struct {
		in   config.HealthCheck
		want health.Spec
	}{
		{with(config.HealthCheck{}, config.CheckTCP), spec(health.TypeTCP, func(*health.Spec) {})},
		{with(config.HealthCheck{TCP: all.TCP}, config.CheckTCP), spec(health.TypeTCP, func(s *health.Spec) {
			s.TCP = &health.TCPSpec{HalfOpen: true}
		})},
		{with(config.HealthCheck{TCP: &config.TCPCheck{}}, config.CheckTCP), spec(health.TypeTCP, func(s *health.Spec) {
			s.TCP = &health.TCPSpec{}
		})},
		{with(config.HealthCheck{}, config.CheckICMP), spec(health.TypeICMP, func(*health.Spec) {})},
		{with(config.HealthCheck{HTTP: all.HTTP}, config.CheckHTTPS), spec(health.TypeHTTPS, func(s *health.Spec) {
			s.HTTP = &health.HTTPSpec{Method: "POST", Path: "/healthz", Host: "www.example.net", ExpectStatus: []string{"200", "301-302"},
				BodyContains: "ok", BodyRegex: "^up", BodyDigest: "9e107d9d372bb6826bd81d3542a419d6", SNI: "tls.example.net", Verify: true,
				ClientCert: "/etc/check.crt", ClientKey: "/etc/check.key"}
		})},
		{with(config.HealthCheck{UDP: all.UDP}, config.CheckUDP), spec(health.TypeUDP, func(s *health.Spec) {
			s.UDP = &health.UDPSpec{Payload: "hex:3c31", Expect: "hex:3e"}
		})},
		{with(config.HealthCheck{UDP: &config.UDPCheck{}}, config.CheckUDP), spec(health.TypeUDP, func(s *health.Spec) {
			s.UDP = &health.UDPSpec{}
		})},
		{with(config.HealthCheck{DNS: all.DNS}, config.CheckDNS), spec(health.TypeDNS, func(s *health.Spec) {
			s.DNS = &health.DNSSpec{Name: "example.net", QType: "AAAA", ExpectRcode: "NXDOMAIN", ExpectAnswer: "2001:db8::1"}
		})},
		{with(config.HealthCheck{SMTP: all.SMTP}, config.CheckSMTP), spec(health.TypeSMTP, func(s *health.Spec) {
			s.SMTP = &health.SMTPSpec{Helo: "lb1.example.net"}
		})},
		{with(config.HealthCheck{Script: all.Script}, config.CheckScript), spec(health.TypeScript, func(s *health.Spec) {
			s.Script = &health.ScriptSpec{Path: "/bin/check", Args: []string{"--quick"}, Timeout: 2 * time.Second, MiscDynamic: true}
		})},
	} {
		got, ok := SpecOf(c.in)
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v (ok %v)\nwant %+v", c.in.Type, got, ok, c.want)
		}
		if err := got.WithDefaults().Validate(); err != nil {
			t.Errorf("%s: mapped spec invalid: %v", c.in.Type, err)
		}
	}
	if _, ok := SpecOf(config.HealthCheck{Type: config.CheckNone}); ok {
		t.Error("type none maps to a check")
	}
}

// TestSpecOfFullExample maps every check of the full example configuration.
func TestSpecOfFullExample(t *testing.T) {
	data, err := os.ReadFile("../config/testdata/full.json")
	if err != nil {
		t.Fatal(err)
	}
	md := buildModel(mustDecode(t, string(data)))
	for _, sm := range md.services {
		for _, mb := range sm.servers {
			if mb.err != "" {
				t.Errorf("%s: %s", mb.id, mb.err)
			}
		}
	}
	if len(md.subs) == 0 || md.checked != len(md.subs) {
		t.Fatalf("%d subscriptions of %d checked servers", len(md.subs), md.checked)
	}
}

const modelDoc = `{
  "virtual_services": [
    {"name": "web", "address": "192.0.2.100", "port": 80, "forwarding": "nat",
     "health_check": {"type": "http", "interval": "1s", "on_failure": "quiesce", "http": {"path": "/health"}},
     "sorry_server": {"address": "198.51.100.99"},
     "quorum": {"minimum_weight": 3, "hysteresis": 1},
     "real_servers": [
       {"address": "198.51.100.11", "weight": 2},
       {"address": "198.51.100.12", "port": 8080, "health_check": {"type": "tcp"}},
       {"address": "198.51.100.13", "health_check": {"type": "none"}},
       {"address": "198.51.100.14", "admin_state": "drain"},
       {"address": "198.51.100.15", "admin_state": "disabled"}
     ]},
    {"name": "plain", "address": "192.0.2.100", "port": 443,
     "real_servers": [{"address": "198.51.100.11"}]},
    {"name": "marked", "fwmark": 7,
     "health_check": {"type": "tcp"},
     "real_servers": [{"address": "198.51.100.11"}]}
  ],
  "vrrp_instances": [
    {"name": "v1", "interface": "eth0", "vrid": 1, "virtual_addresses": [{"address": "192.0.2.100/32"}],
     "track_services": [{"service": "web", "weight": -20}]}
  ]
}`

func mustDecode(t *testing.T, doc string) config.Config {
	t.Helper()
	c, err := config.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuildModel(t *testing.T) {
	md := buildModel(mustDecode(t, modelDoc))
	if len(md.services) != 3 {
		t.Fatalf("%d services", len(md.services))
	}
	web := md.services[0]
	if web.spec != (service.Spec{Quorum: 3, Hysteresis: 1, Sorry: true}) || web.sorry.String() != "198.51.100.99:80" {
		t.Errorf("web spec %+v sorry %v", web.spec, web.sorry)
	}
	if len(web.trackDelta) != 1 || web.trackDelta[0] != -20 {
		t.Errorf("tracking %v", web.trackDelta)
	}
	type row struct {
		id, typ   string
		weight    int
		drain     bool
		onFailure service.OnFailure
	}
	var got []row
	for _, mb := range web.servers {
		got = append(got, row{mb.id, mb.checkType, mb.weight, mb.drain, mb.onFailure})
	}
	want := []row{
		{"web/198.51.100.11:80", "http", 2, false, service.Quiesce},
		{"web/198.51.100.12:8080", "tcp", 1, false, service.Remove}, // the override's on_failure (default remove)
		{"", "", 1, false, service.Remove},                          // type none: unchecked
		{"web/198.51.100.14:80", "http", 0, true, service.Quiesce},  // drained: still checked, weight 0
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("members\n got %+v\nwant %+v", got, want)
	}
	if len(web.disabled) != 1 || web.disabled[0].String() != "198.51.100.15:80" {
		t.Errorf("disabled %v", web.disabled)
	}
	if k := web.servers[1].key; k != (ipvs.DestinationKey{Addr: netip.MustParseAddr("198.51.100.12"), Port: 8080}) {
		t.Errorf("key %v", k)
	}
	if len(md.services[1].servers) != 1 || md.services[1].servers[0].id != "" {
		t.Errorf("service without checks: %+v", md.services[1].servers)
	}
	// The fwmark service's real server has no port: its tcp check cannot run, which
	// the status says and which keeps the server out.
	marked := md.services[2].servers[0]
	if marked.id != "marked/198.51.100.11:0" {
		t.Errorf("fwmark member %+v", marked)
	}
	if len(md.subs) != 4 || md.checked != 4 {
		t.Errorf("%d subscriptions, %d checked; want 4 and 4", len(md.subs), md.checked)
	}
	for _, s := range md.subs {
		if s.Service == "" || s.Spec.Type == "" || !strings.HasPrefix(s.ID, s.Service+"/") {
			t.Errorf("subscription %+v", s)
		}
	}
}

func TestBuildModelInvalidSpec(t *testing.T) {
	cfg := mustDecode(t, `{"virtual_services": [{"name": "dns", "address": "192.0.2.53", "port": 53, "protocol": "udp",
	  "real_servers": [{"address": "198.51.100.53"}]}]}`)
	cfg.VirtualServices[0].HealthCheck = &config.HealthCheck{Type: config.CheckDNS} // no name: config validation would refuse it
	md := buildModel(cfg)
	mb := md.services[0].servers[0]
	if !strings.Contains(mb.err, "dns.name: required") || len(md.subs) != 0 || md.checked != 1 {
		t.Fatalf("invalid spec: err %q, %d subscriptions", mb.err, len(md.subs))
	}
}

func TestTrack(t *testing.T) {
	up, down := ServiceHealth{Up: true}, ServiceHealth{}
	for _, c := range []struct {
		h      ServiceHealth
		weight int
		delta  int
		fault  bool
	}{
		{up, 0, 0, false}, {down, 0, 0, true},
		{up, 10, 10, false}, {down, 10, 0, false},
		{up, -30, 0, false}, {down, -30, -30, false},
	} {
		if d, f := c.h.Track(c.weight); d != c.delta || f != c.fault {
			t.Errorf("up=%v weight %d: delta %d fault %v, want %d %v", c.h.Up, c.weight, d, f, c.delta, c.fault)
		}
	}
}
