package health

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	s := Spec{Type: TypeHTTPS}.WithDefaults()
	if s.Interval != DefaultInterval || s.Timeout != DefaultTimeout || s.Rise != 2 || s.Fall != 3 || s.Initial != InitialDown {
		t.Errorf("timing defaults: %+v", s)
	}
	if s.HTTP.Method != "GET" || s.HTTP.Path != "/" || s.HTTP.ExpectStatus[0] != "200-299" {
		t.Errorf("http defaults: %+v", s.HTTP)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	sc := Spec{Type: TypeScript, Timeout: 3 * time.Second, Script: &ScriptSpec{Path: "/bin/true"}}.WithDefaults()
	if sc.Script.Timeout != 3*time.Second || sc.AttemptTimeout() != 3*time.Second {
		t.Errorf("script timeout default: %v", sc.Script.Timeout)
	}
	// WithDefaults copies: the input is not touched.
	in := Spec{Type: TypeDNS, DNS: &DNSSpec{Name: "a.test"}}
	_ = in.WithDefaults()
	if in.DNS.QType != "" {
		t.Error("WithDefaults changed its input")
	}
	if tcp := (Spec{Type: TypeTCP}).WithDefaults(); tcp.TCP == nil || tcp.TCP.HalfOpen {
		t.Errorf("tcp defaults: %+v", tcp.TCP)
	}
	tin := Spec{Type: TypeTCP, TCP: &TCPSpec{HalfOpen: true}}
	if tout := tin.WithDefaults(); tout.TCP == tin.TCP || !tout.TCP.HalfOpen {
		t.Errorf("WithDefaults did not copy TCP: %p %+v", tout.TCP, tout.TCP)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		spec Spec
		msg  string
	}{
		{Spec{Type: "ftp"}, `type: "ftp" is not one of tcp, http, https, udp, dns, smtp, icmp, script`},
		{Spec{Type: TypeTCP, Rise: -1}, "rise: must be at least 1"},
		{Spec{Type: TypeTCP, Port: 70000}, "port: 70000 is not a port"},
		{Spec{Type: TypeTCP, Initial: "up"}, `initial: "up" is not down or inherit`},
		{Spec{Type: TypeTCP, HTTP: &HTTPSpec{}}, "http: fields given for a tcp check"},
		{Spec{Type: TypeHTTP, TCP: &TCPSpec{HalfOpen: true}}, "tcp: fields given for a http check"},
		{Spec{Type: TypeTCP, Address: netip.MustParseAddr("192.0.2.1"), Source: netip.MustParseAddr("::1")}, "different families"},
		{Spec{Type: TypeHTTP, HTTP: &HTTPSpec{ExpectStatus: []string{"2xx"}}}, `http.expect_status: "2xx" is not a status code or range`},
		{Spec{Type: TypeHTTP, HTTP: &HTTPSpec{ExpectStatus: []string{"300-200"}}}, "is not a status code or range"},
		{Spec{Type: TypeHTTP, HTTP: &HTTPSpec{Path: "health"}}, "http.path"},
		{Spec{Type: TypeHTTP, HTTP: &HTTPSpec{Method: "get"}}, "http.method"},
		{Spec{Type: TypeHTTP, HTTP: &HTTPSpec{BodyRegex: "("}}, "http.body_regex"},
		{Spec{Type: TypeHTTP, HTTP: &HTTPSpec{BodyDigest: "abc"}}, "http.body_digest"},
		{Spec{Type: TypeHTTP, HTTP: &HTTPSpec{Verify: true}}, "need type https"},
		{Spec{Type: TypeHTTPS, HTTP: &HTTPSpec{ClientCert: "x"}}, "go together"},
		{Spec{Type: TypeHTTP, HTTP: &HTTPSpec{Method: "HEAD", BodyContains: "x"}}, "HEAD has no body"},
		{Spec{Type: TypeUDP, UDP: &UDPSpec{Payload: "hex:zz"}}, "udp.payload: bad hex"},
		{Spec{Type: TypeDNS}, "dns.name: required"},
		{Spec{Type: TypeDNS, DNS: &DNSSpec{Name: "a", QType: "NOPE"}}, "dns.qtype"},
		{Spec{Type: TypeDNS, DNS: &DNSSpec{Name: "a", ExpectRcode: "FINE"}}, "dns.expect_rcode"},
		{Spec{Type: TypeScript, Script: &ScriptSpec{Path: "check.sh"}}, "script.path: must be an absolute path"},
	}
	for _, c := range cases {
		err := c.spec.WithDefaults().Validate()
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: err %v, want one containing %q", c.spec, err, c.msg)
		}
	}
}

func TestStatusSet(t *testing.T) {
	set, err := ParseStatusSet([]string{"200-204, 301", "418"})
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[int]bool{199: false, 200: true, 204: true, 205: false, 301: true, 302: false, 418: true} {
		if set.Contains(code) != want {
			t.Errorf("Contains(%d) = %v", code, !want)
		}
	}
	if _, err := ParseStatusSet(nil); err == nil {
		t.Error("empty set accepted")
	}
}

func TestKey(t *testing.T) {
	base := Spec{Type: TypeHTTP, HTTP: &HTTPSpec{Path: "/h"}}.WithDefaults()
	rs := netip.MustParseAddrPort("198.51.100.11:80")
	k := base.Key(rs)
	same := base
	same.Initial = InitialInherit
	if same.Key(rs) != k {
		t.Error("Initial changed the key")
	}
	over := base
	over.Address, over.Port = rs.Addr(), 80
	if over.Key(netip.MustParseAddrPort("203.0.113.5:443")) != k {
		t.Error("an override to the same target gave another key")
	}
	for _, mod := range []func(*Spec){
		func(s *Spec) { s.Interval = time.Minute },
		func(s *Spec) { s.Rise = 5 },
		func(s *Spec) { s.Source = netip.MustParseAddr("198.51.100.1") },
		func(s *Spec) { h := *s.HTTP; h.Host = "x"; s.HTTP = &h },
	} {
		s := base
		mod(&s)
		if s.Key(rs) == k {
			t.Errorf("changed spec %+v kept the key", s)
		}
	}
	if base.Key(netip.MustParseAddrPort("198.51.100.11:81")) == k {
		t.Error("another port kept the key")
	}
	// tcp: absent and HalfOpen false are one probe; half-open is another.
	tcpNil := Spec{Type: TypeTCP}.WithDefaults().Key(rs)
	if tcpFalse := (Spec{Type: TypeTCP, TCP: &TCPSpec{}}).WithDefaults().Key(rs); tcpFalse != tcpNil {
		t.Errorf("tcp key with TCP nil %s and with HalfOpen false %s differ", tcpNil, tcpFalse)
	}
	if (Spec{Type: TypeTCP, TCP: &TCPSpec{HalfOpen: true}}).WithDefaults().Key(rs) == tcpNil {
		t.Error("half_open kept the tcp key")
	}
	icmp := Spec{Type: TypeICMP}.WithDefaults()
	if icmp.Key(rs) != icmp.Key(netip.MustParseAddrPort("198.51.100.11:443")) {
		t.Error("icmp key depends on the port")
	}
}

func TestDecodeBytesAndMillis(t *testing.T) {
	if b, err := DecodeBytes("hex:de ad"); err != nil || string(b) != "\xde\xad" {
		t.Errorf("hex: %q %v", b, err)
	}
	if b, _ := DecodeBytes("PING"); string(b) != "PING" {
		t.Errorf("text: %q", b)
	}
	for d, want := range map[time.Duration]string{350 * time.Microsecond: "0.35 ms", 4200 * time.Microsecond: "4.2 ms", 12 * time.Millisecond: "12 ms"} {
		if got := Millis(d); got != want {
			t.Errorf("Millis(%v) = %q, want %q", d, got, want)
		}
	}
}
