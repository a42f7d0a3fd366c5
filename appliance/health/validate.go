package health

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Validate reports every problem with s (after WithDefaults) as one error whose
// parts name the field, e.g. `http.expect_status: "2xx" is not a status code or
// range`.
func (s Spec) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !validType(s.Type) {
		bad("type", "%q is not one of %s", s.Type, typeList())
	}
	if s.Interval <= 0 {
		bad("interval", "must be positive, not %s", s.Interval)
	}
	if s.Timeout <= 0 {
		bad("timeout", "must be positive, not %s", s.Timeout)
	}
	if s.Rise < 1 {
		bad("rise", "must be at least 1, not %d", s.Rise)
	}
	if s.Fall < 1 {
		bad("fall", "must be at least 1, not %d", s.Fall)
	}
	if s.Retries < 0 {
		bad("retries", "must not be negative, not %d", s.Retries)
	}
	if s.RetryDelay < 0 {
		bad("retry_delay", "must not be negative, not %s", s.RetryDelay)
	}
	if s.Port < 0 || s.Port > 65535 {
		bad("port", "%d is not a port", s.Port)
	}
	if s.Address.IsValid() && s.Source.IsValid() && s.Address.Is4() != s.Source.Is4() {
		bad("source", "%s and target address %s are of different families", s.Source, s.Address)
	}
	switch s.Initial {
	case InitialDown, InitialInherit:
	default:
		bad("initial", "%q is not down or inherit", s.Initial)
	}
	for _, f := range []struct {
		name string
		set  bool
		ok   bool
	}{
		{"tcp", s.TCP != nil, s.Type == TypeTCP},
		{"http", s.HTTP != nil, s.Type == TypeHTTP || s.Type == TypeHTTPS},
		{"udp", s.UDP != nil, s.Type == TypeUDP},
		{"dns", s.DNS != nil, s.Type == TypeDNS},
		{"smtp", s.SMTP != nil, s.Type == TypeSMTP},
		{"script", s.Script != nil, s.Type == TypeScript},
	} {
		if f.set && !f.ok {
			bad(f.name, "fields given for a %s check", s.Type)
		}
	}
	switch s.Type {
	case TypeHTTP, TypeHTTPS:
		errs = append(errs, s.validateHTTP()...)
	case TypeUDP:
		if s.UDP != nil {
			if _, err := DecodeBytes(s.UDP.Payload); err != nil {
				bad("udp.payload", "%v", err)
			}
			if _, err := DecodeBytes(s.UDP.Expect); err != nil {
				bad("udp.expect", "%v", err)
			}
		}
	case TypeDNS:
		if s.DNS == nil || s.DNS.Name == "" {
			bad("dns.name", "required")
		}
		if s.DNS != nil {
			if _, ok := dns.StringToType[strings.ToUpper(s.DNS.QType)]; !ok {
				bad("dns.qtype", "%q is not a DNS record type", s.DNS.QType)
			}
			if _, ok := dns.StringToRcode[strings.ToUpper(s.DNS.ExpectRcode)]; !ok {
				bad("dns.expect_rcode", "%q is not a DNS rcode", s.DNS.ExpectRcode)
			}
		}
	case TypeScript:
		if s.Script == nil || !strings.HasPrefix(s.Script.Path, "/") {
			bad("script.path", "must be an absolute path")
		}
		if s.Script != nil && s.Script.Timeout <= 0 {
			bad("script.timeout", "must be positive, not %s", s.Script.Timeout)
		}
	}
	return errors.Join(errs...)
}

func (s Spec) validateHTTP() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("http.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	h := s.HTTP
	if h == nil {
		return nil
	}
	if !validMethod(h.Method) {
		bad("method", "%q is not an HTTP method", h.Method)
	}
	if !strings.HasPrefix(h.Path, "/") {
		bad("path", "%q must start with /", h.Path)
	}
	if _, err := ParseStatusSet(h.ExpectStatus); err != nil {
		bad("expect_status", "%v", err)
	}
	if h.BodyRegex != "" {
		if _, err := regexp.Compile(h.BodyRegex); err != nil {
			bad("body_regex", "%v", err)
		}
	}
	if h.BodyDigest != "" {
		if b, err := hex.DecodeString(h.BodyDigest); err != nil || len(b) != 16 {
			bad("body_digest", "%q is not an MD5 digest in hex", h.BodyDigest)
		}
	}
	if s.Type == TypeHTTP && (h.SNI != "" || h.Verify || h.CA != "" || h.ClientCert != "" || h.ClientKey != "") {
		bad("sni", "TLS fields (sni, verify, ca, client_cert, client_key) need type https")
	}
	if (h.ClientCert == "") != (h.ClientKey == "") {
		bad("client_key", "client_cert and client_key go together")
	}
	if h.Method == "HEAD" && (h.BodyContains != "" || h.BodyRegex != "" || h.BodyDigest != "") {
		bad("method", "HEAD has no body to match")
	}
	return errs
}

func validType(t Type) bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

func typeList() string {
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// StatusSet is a set of HTTP status codes.
type StatusSet []StatusRange

// StatusRange is an inclusive range of status codes.
type StatusRange struct{ Lo, Hi int }

// ParseStatusSet parses items like "200", "200-299" or "301,302".
func ParseStatusSet(items []string) (StatusSet, error) {
	var set StatusSet
	for _, item := range items {
		for _, part := range strings.Split(item, ",") {
			part = strings.TrimSpace(part)
			lo, hi, isRange := strings.Cut(part, "-")
			a, errA := strconv.Atoi(strings.TrimSpace(lo))
			b := a
			var errB error
			if isRange {
				b, errB = strconv.Atoi(strings.TrimSpace(hi))
			}
			if errA != nil || errB != nil || a < 100 || b > 599 || a > b {
				return nil, fmt.Errorf("%q is not a status code or range", part)
			}
			set = append(set, StatusRange{a, b})
		}
	}
	if len(set) == 0 {
		return nil, errors.New("empty")
	}
	return set, nil
}

// Contains reports whether code is in the set.
func (s StatusSet) Contains(code int) bool {
	for _, r := range s {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

// DecodeBytes decodes a payload field: text as is, or hex after a "hex:" prefix.
func DecodeBytes(s string) ([]byte, error) {
	if h, ok := strings.CutPrefix(s, "hex:"); ok {
		b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if err != nil {
			return nil, fmt.Errorf("bad hex: %w", err)
		}
		return b, nil
	}
	return []byte(s), nil
}
