package config

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// minCheckPeriod is the shortest check interval or timeout lvsbox accepts.
const minCheckPeriod = Duration(10 * time.Millisecond)

// check validates a health-check spec at p.
func (v *validator) check(p string, hc HealthCheck) {
	switch {
	case hc.Type == "":
		v.add(join(p, "type"), "required (one of %s)", checkTypeList())
		return
	case !slices.Contains(CheckTypes, hc.Type):
		v.add(join(p, "type"), "%q is not a check type (one of %s)", hc.Type, checkTypeList())
		return
	case hc.Type == CheckNone:
		if hc != (HealthCheck{Type: CheckNone}) {
			v.add(p, "a check of type none takes no other fields")
		}
		return
	}
	for _, d := range []struct {
		name string
		val  Duration
	}{{"interval", hc.Interval}, {"timeout", hc.Timeout}} {
		if d.val != 0 && d.val < minCheckPeriod {
			v.add(join(p, d.name), "%s is too short (at least %s)", d.val, minCheckPeriod)
		}
	}
	for _, n := range []struct {
		name    string
		val, hi int
	}{{"rise", hc.Rise, 1000}, {"fall", hc.Fall, 1000}, {"retries", hc.Retries, 100}} {
		if n.val < 0 || n.val > n.hi {
			v.add(join(p, n.name), "%d is out of range (0-%d)", n.val, n.hi)
		}
	}
	switch hc.OnFailure {
	case "", OnFailureRemove, OnFailureQuiesce:
	default:
		v.add(join(p, "on_failure"), "%q is not a failure action (remove or quiesce)", hc.OnFailure)
	}
	if hc.TargetAddress.IsValid() {
		v.unicast(join(p, "target_address"), hc.TargetAddress)
	}
	switch {
	case hc.TargetPort != 0 && hc.Type == CheckICMP:
		v.add(join(p, "target_port"), "icmp checks have no port")
	default:
		v.optPort(join(p, "target_port"), hc.TargetPort)
	}
	if sa := hc.SourceAddress; sa.IsValid() {
		switch {
		case hc.Type == CheckScript:
			v.add(join(p, "source_address"), "script checks open no sockets of their own; source_address has no effect")
		case !v.unicast(join(p, "source_address"), sa):
		case hc.TargetAddress.IsValid() && sa.Is6() != hc.TargetAddress.Is6():
			v.add(join(p, "source_address"), "%s is not the same address family as target_address %s", sa, hc.TargetAddress)
		}
	}
	v.checkFields(p, hc)
}

// checkFields checks the per-type sub-objects: present only for their type, and
// valid.
func (v *validator) checkFields(p string, hc HealthCheck) {
	wrong := func(field, types string) {
		v.add(join(p, field), "%s settings are for %s checks (this one is %s)", field, types, hc.Type)
	}
	if hc.TCP != nil && hc.Type != CheckTCP {
		wrong("tcp", "tcp")
	}
	isHTTP := hc.Type == CheckHTTP || hc.Type == CheckHTTPS
	switch {
	case hc.HTTP != nil && !isHTTP:
		wrong("http", "http and https")
	case hc.HTTP != nil:
		v.httpCheck(join(p, "http"), hc.Type, *hc.HTTP)
	}
	switch {
	case hc.UDP != nil && hc.Type != CheckUDP:
		wrong("udp", "udp")
	case hc.UDP != nil:
		for _, f := range []struct{ name, val string }{{"payload_hex", hc.UDP.PayloadHex}, {"expect_hex", hc.UDP.ExpectHex}} {
			if b, err := hex.DecodeString(f.val); err != nil {
				v.add(join(p, "udp."+f.name), "%q is not hex (two digits 0-9a-f per byte)", f.val)
			} else if len(b) > 65507 {
				v.add(join(p, "udp."+f.name), "%d bytes do not fit a UDP datagram", len(b))
			}
		}
	}
	switch {
	case hc.DNS != nil && hc.Type != CheckDNS:
		wrong("dns", "dns")
	case hc.DNS == nil && hc.Type == CheckDNS:
		v.add(join(p, "dns"), "required for dns checks (at least the name to query)")
	case hc.DNS != nil:
		v.dnsCheck(join(p, "dns"), *hc.DNS)
	}
	switch {
	case hc.SMTP != nil && hc.Type != CheckSMTP:
		wrong("smtp", "smtp")
	case hc.SMTP != nil && hc.SMTP.HeloName != "" && !validDomain(hc.SMTP.HeloName):
		v.add(join(p, "smtp.helo_name"), "%q is not a host name", hc.SMTP.HeloName)
	}
	switch {
	case hc.Script != nil && hc.Type != CheckScript:
		wrong("script", "script")
	case hc.Script == nil && hc.Type == CheckScript:
		v.add(join(p, "script"), "required for script checks (at least the path)")
	case hc.Script != nil:
		sp := join(p, "script")
		v.absPath(join(sp, "path"), hc.Script.Path, true)
		for i, a := range hc.Script.Args {
			if strings.ContainsRune(a, 0) {
				v.add(fmt.Sprintf("%s.args[%d]", sp, i), "an argument cannot contain a NUL byte")
			}
		}
		if t := hc.Script.Timeout; t != 0 && t < minCheckPeriod {
			v.add(join(sp, "timeout"), "%s is too short (at least %s)", t, minCheckPeriod)
		}
	}
}

var httpMethod = regexp.MustCompile(`^[A-Z]{1,16}$`)

func (v *validator) httpCheck(p string, typ CheckType, h HTTPCheck) {
	if h.Method != "" && !httpMethod.MatchString(h.Method) {
		v.add(join(p, "method"), "%q is not an HTTP method (e.g. GET, HEAD)", h.Method)
	}
	if h.Path != "" && (!strings.HasPrefix(h.Path, "/") || strings.ContainsAny(h.Path, " \t\r\n")) {
		v.add(join(p, "path"), "%q is not a request path (it starts with '/' and has no spaces)", h.Path)
	}
	if h.Host != "" {
		host := h.Host
		if hp, err := netip.ParseAddrPort(host); err == nil {
			host = hp.Addr().String()
		} else if hh, port, ok := strings.Cut(host, ":"); ok && !strings.Contains(port, ":") {
			if n, err := strconv.Atoi(port); err != nil || !validPort(n) {
				host = "" // bad port
			} else {
				host = hh
			}
		}
		if !validHost(host) {
			v.add(join(p, "host"), "%q is not a host name or host:port", h.Host)
		}
	}
	for i, s := range h.ExpectStatus {
		if !validStatusRange(s) {
			v.add(fmt.Sprintf("%s.expect_status[%d]", p, i), "%q is not a status code or range (e.g. \"200\", \"200-299\"; codes 100-599)", s)
		}
	}
	n := 0
	for _, s := range []string{h.BodyContains, h.BodyRegex, h.BodyDigest} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		v.add(p, "choose one of body_contains, body_regex and body_digest")
	}
	if h.BodyRegex != "" {
		if _, err := regexp.Compile(h.BodyRegex); err != nil {
			v.add(join(p, "body_regex"), "%q is not a regular expression: %s", h.BodyRegex, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
	}
	if d := h.BodyDigest; d != "" {
		if b, err := hex.DecodeString(d); err != nil || len(b) != 16 {
			v.add(join(p, "body_digest"), "%q is not an MD5 digest (32 hex digits, as genhash prints)", d)
		}
	}
	if typ != CheckHTTPS {
		for _, f := range []struct {
			name string
			set  bool
		}{{"sni", h.SNI != ""}, {"verify", h.Verify}, {"client_cert", h.ClientCert != ""}, {"client_key", h.ClientKey != ""}} {
			if f.set {
				v.add(join(p, f.name), "TLS settings are for https checks (this one is %s)", typ)
			}
		}
		return
	}
	if h.SNI != "" && !validDomain(h.SNI) {
		v.add(join(p, "sni"), "%q is not a host name", h.SNI)
	}
	v.absPath(join(p, "client_cert"), h.ClientCert, false)
	v.absPath(join(p, "client_key"), h.ClientKey, false)
	switch {
	case h.ClientCert != "" && h.ClientKey == "":
		v.add(join(p, "client_key"), "required with client_cert")
	case h.ClientKey != "" && h.ClientCert == "":
		v.add(join(p, "client_cert"), "required with client_key")
	}
}

func (v *validator) dnsCheck(p string, d DNSCheck) {
	switch {
	case d.Name == "":
		v.add(join(p, "name"), "required (the name to query)")
	case !validDomain(d.Name):
		v.add(join(p, "name"), "%q is not a domain name", d.Name)
	}
	typ := orDefault(d.Type, DefaultDNSType)
	if !slices.Contains(DNSTypes, typ) {
		v.add(join(p, "type"), "%q is not a query type (one of %s)", d.Type, strings.Join(DNSTypes, ", "))
	}
	if d.ExpectRcode != "" && !slices.Contains(DNSRcodes, d.ExpectRcode) {
		v.add(join(p, "expect_rcode"), "%q is not a response code (one of %s)", d.ExpectRcode, strings.Join(DNSRcodes, ", "))
	}
	if ans := d.ExpectAnswer; ans != "" && (typ == "A" || typ == "AAAA") {
		if a, err := netip.ParseAddr(ans); err != nil || a.Is4() != (typ == "A") {
			v.add(join(p, "expect_answer"), "%q is not an %s record's address", ans, map[bool]string{true: "IPv4", false: "IPv6"}[typ == "A"])
		}
	}
}

// absPath checks a file path that must be absolute (and is required when required).
func (v *validator) absPath(p, s string, required bool) {
	switch {
	case s == "" && required:
		v.add(p, "required (an absolute path)")
	case s == "":
	case !path.IsAbs(s) || strings.ContainsRune(s, 0):
		v.add(p, "%q is not an absolute path", s)
	}
}

func validStatusRange(s string) bool {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	return err1 == nil && err2 == nil && len(lo) == 3 && len(hi) == 3 && a >= 100 && b <= 599 && a <= b
}

func checkTypeList() string {
	s := make([]string, len(CheckTypes))
	for i, t := range CheckTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
