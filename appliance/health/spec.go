package health

import (
	"net/netip"
	"time"
)

// Type is the kind of check.
type Type string

// Check types.
const (
	TypeTCP    Type = "tcp"    // TCP connect
	TypeHTTP   Type = "http"   // HTTP request, status and body rules
	TypeHTTPS  Type = "https"  // HTTP over TLS
	TypeUDP    Type = "udp"    // datagram out, expected reply back
	TypeDNS    Type = "dns"    // DNS query, expected rcode/answer
	TypeSMTP   Type = "smtp"   // 220 banner, then EHLO (HELO fallback)
	TypeICMP   Type = "icmp"   // ICMP echo
	TypeScript Type = "script" // executable, exit status decides
)

// Types lists every check type in documentation order.
var Types = []Type{TypeTCP, TypeHTTP, TypeHTTPS, TypeUDP, TypeDNS, TypeSMTP, TypeICMP, TypeScript}

// Initial is the state a probe starts in when it is created.
type Initial string

// Starting states. There is deliberately no "up": a server never enters service
// without a passing check.
const (
	// InitialDown (the default) starts down; `rise` passing checks bring it up.
	InitialDown Initial = "down"
	// InitialInherit starts in the state of the probe this real server used before
	// the config change (when its check spec changed); without one it starts down.
	InitialInherit Initial = "inherit"
)

// Defaults filled in by WithDefaults.
const (
	DefaultInterval   = 2 * time.Second
	DefaultTimeout    = time.Second
	DefaultRise       = 2
	DefaultFall       = 3
	DefaultRetryDelay = 500 * time.Millisecond
	DefaultHTTPMethod = "GET"
	DefaultHTTPPath   = "/"
	DefaultExpect     = "200-299"
	DefaultQType      = "A"
	DefaultRcode      = "NOERROR"
	DefaultHelo       = "lvsbox"
)

// Spec is one health check as configured for a real server.
//
// Two real servers (of the same or different virtual services) whose effective
// target and Spec are equal share one probe; see Key.
type Spec struct {
	Type Type

	Interval   time.Duration // time between check rounds (start to start)
	Timeout    time.Duration // per attempt
	Rise       int           // consecutive passing checks that bring a down server up
	Fall       int           // consecutive failing checks that take an up server down
	Retries    int           // extra attempts before a failure of an up server counts
	RetryDelay time.Duration // pause before each retry

	// Address and Port override the real server's address and port as the target
	// (zero: use the real server's). Port is ignored by icmp.
	Address netip.Addr
	Port    int
	// Source binds the probe's local address (zero: the kernel chooses).
	Source netip.Addr

	// Initial is the starting state of a newly created probe (default down). It is
	// not part of the probe's identity.
	Initial Initial

	TCP    *TCPSpec    // tcp
	HTTP   *HTTPSpec   // http and https
	UDP    *UDPSpec    // udp
	DNS    *DNSSpec    // dns
	SMTP   *SMTPSpec   // smtp
	Script *ScriptSpec // script
}

// TCPSpec holds the fields of tcp checks.
type TCPSpec struct {
	HalfOpen bool // SYN probe from a raw socket instead of a full connect
}

// HTTPSpec holds the fields of http and https checks.
type HTTPSpec struct {
	Method string // default GET; redirects are never followed
	Path   string // default "/", may carry a query
	Host   string // Host header; empty: the target address
	// ExpectStatus lists accepted status codes and ranges ("200", "200-299",
	// "301,302"); default 200-299.
	ExpectStatus []string
	BodyContains string // the body must contain this text
	BodyRegex    string // the body must match this RE2 expression
	BodyDigest   string // MD5 of the whole body, lower-case hex (keepalived genhash)

	// TLS (https only).
	SNI        string // server name sent; empty: Host (without port) if set
	Verify     bool   // verify the server certificate chain and name
	CA         string // trusted roots for Verify: PEM text or a file path; empty: system roots
	ClientCert string // client certificate: PEM text or a file path
	ClientKey  string // its private key: PEM text or a file path
}

// UDPSpec holds the fields of udp checks. Payload and Expect are text, or hex when
// prefixed with "hex:".
type UDPSpec struct {
	Payload string // datagram sent (may be empty)
	Expect  string // the reply must contain these bytes; empty: any reply
}

// DNSSpec holds the fields of dns checks.
type DNSSpec struct {
	Name         string // queried name (made fully qualified)
	QType        string // record type, default A
	ExpectRcode  string // default NOERROR
	ExpectAnswer string // an answer's data must equal this (e.g. "192.0.2.1"); empty: any
}

// SMTPSpec holds the fields of smtp checks.
type SMTPSpec struct {
	Helo string // name sent with EHLO/HELO, default "lvsbox"
}

// ScriptSpec holds the fields of script checks. The target is passed in the
// environment as LVSBOX_CHECK_ADDRESS and LVSBOX_CHECK_PORT.
type ScriptSpec struct {
	Path    string
	Args    []string
	Timeout time.Duration // default: the check's Timeout
	// MiscDynamic: exit 2-255 means up with weight = code - 2 (keepalived's
	// misc_dynamic); exit 0 means up without changing the weight.
	MiscDynamic bool
}

// WithDefaults returns a copy of s with every unset field at its default. Slices and
// sub-structs are copied, so the result shares no memory with s.
func (s Spec) WithDefaults() Spec {
	if s.Interval == 0 {
		s.Interval = DefaultInterval
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Rise == 0 {
		s.Rise = DefaultRise
	}
	if s.Fall == 0 {
		s.Fall = DefaultFall
	}
	if s.RetryDelay == 0 {
		s.RetryDelay = DefaultRetryDelay
	}
	if s.Initial == "" {
		s.Initial = InitialDown
	}
	switch s.Type {
	case TypeTCP:
		// Never nil, so that absent and HalfOpen false give one Key.
		t := TCPSpec{}
		if s.TCP != nil {
			t = *s.TCP
		}
		s.TCP = &t
	case TypeHTTP, TypeHTTPS:
		h := HTTPSpec{}
		if s.HTTP != nil {
			h = *s.HTTP
		}
		if h.Method == "" {
			h.Method = DefaultHTTPMethod
		}
		if h.Path == "" {
			h.Path = DefaultHTTPPath
		}
		if len(h.ExpectStatus) == 0 {
			h.ExpectStatus = []string{DefaultExpect}
		} else {
			h.ExpectStatus = append([]string(nil), h.ExpectStatus...)
		}
		s.HTTP = &h
	case TypeUDP:
		u := UDPSpec{}
		if s.UDP != nil {
			u = *s.UDP
		}
		s.UDP = &u
	case TypeDNS:
		d := DNSSpec{}
		if s.DNS != nil {
			d = *s.DNS
		}
		if d.QType == "" {
			d.QType = DefaultQType
		}
		if d.ExpectRcode == "" {
			d.ExpectRcode = DefaultRcode
		}
		s.DNS = &d
	case TypeSMTP:
		m := SMTPSpec{}
		if s.SMTP != nil {
			m = *s.SMTP
		}
		if m.Helo == "" {
			m.Helo = DefaultHelo
		}
		s.SMTP = &m
	case TypeScript:
		sc := ScriptSpec{}
		if s.Script != nil {
			sc = *s.Script
			sc.Args = append([]string(nil), sc.Args...)
		}
		if sc.Timeout == 0 {
			sc.Timeout = s.Timeout
		}
		s.Script = &sc
	}
	return s
}

// Target is the address (and port) a check of s probes for a real server at server.
func (s Spec) Target(server netip.AddrPort) netip.AddrPort {
	addr, port := server.Addr(), server.Port()
	if s.Address.IsValid() {
		addr = s.Address
	}
	if s.Port != 0 {
		port = uint16(s.Port)
	}
	if s.Type == TypeICMP {
		port = 0
	}
	return netip.AddrPortFrom(addr, port)
}

// AttemptTimeout is the deadline of one attempt: the script timeout for scripts,
// Timeout otherwise. s must have its defaults.
func (s Spec) AttemptTimeout() time.Duration {
	if s.Type == TypeScript && s.Script != nil && s.Script.Timeout > 0 {
		return s.Script.Timeout
	}
	return s.Timeout
}
