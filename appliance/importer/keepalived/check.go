package keepalived

import (
	"encoding/hex"
	"reflect"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// maxRetries is the most retries an lvsbox check takes.
const maxRetries = 100

// realCheck maps the checkers of a real server to one lvsbox check (nil: none).
// keepalived runs every checker of a server and takes it out when any fails;
// lvsbox runs one check per server, so the first mappable checker is used and the
// others are reported.
func (m *mapper) realCheck(s *vsSpec, r *realSpec) *config.HealthCheck {
	if r.hcDone {
		if r.hc == nil {
			return nil
		}
		c := *r.hc
		return &c
	}
	r.hcDone = true
	var used *Node
	for _, c := range r.checks {
		if used != nil {
			m.drop(c, importer.Warning, "not mapped: lvsbox runs one check per real server; the %s above is the one imported", used.Keyword())
			continue
		}
		if hc := m.checker(c, s, r); hc != nil {
			r.hc, used = hc, c
		}
	}
	return m.realCheck(s, r)
}

// checkTypes maps checker keywords to lvsbox check types.
var checkTypes = map[string]config.CheckType{
	"TCP_CHECK": config.CheckTCP, "HTTP_GET": config.CheckHTTP, "SSL_GET": config.CheckHTTPS,
	"SMTP_CHECK": config.CheckSMTP, "DNS_CHECK": config.CheckDNS, "MISC_CHECK": config.CheckScript,
	"UDP_CHECK": config.CheckUDP, "PING_CHECK": config.CheckICMP,
}

// checker maps one checker block.
func (m *mapper) checker(c *Node, s *vsSpec, r *realSpec) *config.HealthCheck {
	typ, ok := checkTypes[c.Keyword()]
	if !ok {
		m.drop(c, importer.Warning, "not mapped: lvsbox has no %s (checks are tcp, http, https, udp, dns, smtp, icmp and script)", c.Keyword())
		return nil
	}
	hc := &config.HealthCheck{Type: typ, Rise: 1, Fall: 1}
	var own timers
	retries, retryDelay := 1, config.Duration(1e9)
	block := blockChecker
	switch typ {
	case config.CheckHTTP, config.CheckHTTPS:
		retryDelay, block = 3e9, blockHTTP
		hc.HTTP = &config.HTTPCheck{}
	case config.CheckDNS:
		retries, retryDelay, block = 3, 0, blockDNS
		hc.DNS = &config.DNSCheck{Type: "SOA"}
	case config.CheckScript:
		retries, block = 0, blockMisc
	case config.CheckSMTP:
		block = blockSMTP
	case config.CheckUDP:
		block = blockUDP
	}
	var hosts []*Node
	urls := 0
	requireReply := false
	for _, x := range c.Block {
		if typ != config.CheckScript && m.connKeyword(x, hc) || m.timerKeyword(x, &own) && x.Keyword() != "inhibit_on_failure" {
			continue
		}
		switch kw := x.Keyword(); {
		case kw == "url" && hc.HTTP != nil:
			urls++
			if urls > 1 {
				m.drop(x, importer.Warning, "not mapped: an lvsbox HTTP check requests one URL; only the first url block is imported")
				continue
			}
			m.url(x, hc.HTTP)
		case kw == "enable_sni" && typ == config.CheckHTTPS:
			own.sni = true
		case kw == "sni_name" && typ == config.CheckHTTPS && m.needArgs(x, 1):
			hc.HTTP.SNI = x.Arg(0)
		case kw == "helo_name" && typ == config.CheckSMTP && m.needArgs(x, 1):
			hc.SMTP = &config.SMTPCheck{HeloName: x.Arg(0)}
		case kw == "host" && typ == config.CheckSMTP:
			hosts = append(hosts, x)
		case kw == "type" && typ == config.CheckDNS && m.needArgs(x, 1):
			hc.DNS.Type = strings.ToUpper(x.Arg(0))
		case kw == "name" && typ == config.CheckDNS && m.needArgs(x, 1):
			hc.DNS.Name = x.Arg(0)
		case kw == "misc_path" && typ == config.CheckScript:
			if path, args, ok := m.scriptPath(x); ok {
				hc.Script = &config.ScriptCheck{Path: path, Args: args}
			}
		case kw == "misc_timeout" && typ == config.CheckScript:
			if d, ok := m.timerArg(x, 0); ok {
				own.miscTimeout = &d
			}
		case kw == "misc_dynamic" && typ == config.CheckScript:
			own.dynamic = true
		case kw == "payload" && typ == config.CheckUDP:
			if h, ok := m.hexArg(x, false); ok {
				hc.UDP = &config.UDPCheck{PayloadHex: h}
			}
		case kw == "require_reply" && typ == config.CheckUDP:
			requireReply = true
			if x.NArgs() > 0 {
				if h, ok := m.hexArg(x, true); ok {
					own.expect = h
				}
			}
		default:
			m.other(x, block)
		}
	}
	if typ == config.CheckSMTP {
		m.smtpHosts(c, hc, hosts)
	}
	m.checkTimers(c, hc, own, r.defaults, s.defaults, retries, retryDelay)
	switch typ {
	case config.CheckHTTP, config.CheckHTTPS:
		m.httpHost(c, hc, own, r.defaults, s.defaults, urls)
	case config.CheckDNS:
		if hc.DNS.Name == "" {
			m.fail(c, "no name: keepalived queries the root zone (.), which an lvsbox DNS check cannot: set health_check.dns.name")
		}
	case config.CheckScript:
		m.miscCheck(c, hc, own)
	case config.CheckUDP:
		if requireReply {
			if own.expect != "" {
				if hc.UDP == nil {
					hc.UDP = &config.UDPCheck{}
				}
				hc.UDP.ExpectHex = own.expect
			}
		} else {
			m.warn(c, "no require_reply: keepalived counts a datagram without an ICMP error as success, but an lvsbox UDP check needs a reply")
		}
	case config.CheckICMP:
		if hc.TargetPort != 0 {
			m.warn(c, "connect_port has no meaning for a ping check; ignored")
			hc.TargetPort = 0
		}
	}
	return hc
}

// connKeyword maps the connection keywords checkers share; it reports whether x
// was one of them.
func (m *mapper) connKeyword(x *Node, hc *config.HealthCheck) bool {
	switch x.Keyword() {
	case "connect_ip":
		if a, ok := m.addrArg(x, 0); ok {
			hc.TargetAddress = a
		}
	case "connect_port":
		if v, ok := m.portArg(x, 0); ok {
			hc.TargetPort = v
		}
	case "bindto":
		if a, ok := m.addrArg(x, 0); ok {
			hc.SourceAddress = a
		}
	default:
		return false
	}
	return true
}

// checkTimers fills interval, timeout and retries from the checker, the real
// server, the virtual server and keepalived's defaults, in that order.
func (m *mapper) checkTimers(c *Node, hc *config.HealthCheck, own, rs, vs timers, retries int, retryDelay config.Duration) {
	pick := func(def config.Duration, ds ...*config.Duration) config.Duration {
		for _, d := range ds {
			if d != nil {
				return *d
			}
		}
		return def
	}
	hc.Interval = pick(kaDelayLoop, own.delayLoop, rs.delayLoop, vs.delayLoop)
	if hc.Type != config.CheckScript {
		hc.Timeout = pick(kaConnectTimeout, own.connectTimeout, rs.connectTimeout, vs.connectTimeout)
	}
	for _, r := range []*int{own.retry, rs.retry, vs.retry} {
		if r != nil {
			retries = *r
			break
		}
	}
	if retries > maxRetries {
		m.notes.Add(c.Pos, importer.Warning, "retry", "%d retries lowered to %d, the most an lvsbox check takes", retries, maxRetries)
		retries = maxRetries
	}
	hc.Retries = retries
	if retryDelay == 0 {
		retryDelay = hc.Interval
	}
	if retries > 0 {
		hc.RetryDelay = pick(retryDelay, own.delayBeforeRetry, rs.delayBeforeRetry, vs.delayBeforeRetry)
	}
	for _, in := range []*bool{rs.inhibit, vs.inhibit} {
		if in != nil {
			if *in {
				hc.OnFailure = config.OnFailureQuiesce
			}
			break
		}
	}
}

// url maps the first url block of an HTTP check.
func (m *mapper) url(n *Node, h *config.HTTPCheck) {
	for _, c := range n.Block {
		switch c.Keyword() {
		case "path":
			if m.needArgs(c, 1) {
				h.Path = c.Arg(0)
			}
		case "digest":
			if m.needArgs(c, 1) {
				h.BodyDigest = strings.ToLower(c.Arg(0))
			}
		case "status_code":
			for _, w := range c.Args() {
				h.ExpectStatus = append(h.ExpectStatus, w.Text)
			}
		case "virtualhost":
			if m.needArgs(c, 1) {
				h.Host = c.Arg(0)
			}
		case "regex":
			if m.needArgs(c, 1) {
				h.BodyRegex = c.Arg(0)
			}
		default:
			m.other(c, blockURL)
		}
	}
	if h.BodyDigest != "" && h.BodyRegex != "" {
		m.notes.Unmapped(n.Pos, importer.Warning, "regex", "not mapped: an lvsbox HTTP check has one body check; the digest is imported")
		h.BodyRegex = ""
	}
}

// httpHost sets the Host header and SNI from the nearest virtualhost.
func (m *mapper) httpHost(c *Node, hc *config.HealthCheck, own, rs, vs timers, urls int) {
	h := hc.HTTP
	if urls == 0 {
		m.info(c, "no url block: lvsbox requests / and accepts 200-299")
	}
	if h.Host == "" {
		for _, v := range []string{own.virtualhost, rs.virtualhost, vs.virtualhost} {
			if v != "" {
				h.Host = v
				break
			}
		}
	}
	if own.sni && h.SNI == "" {
		if h.Host == "" {
			m.warn(c, "enable_sni without a virtualhost: no server name to send")
		}
		h.SNI = h.Host
	}
	if reflect.DeepEqual(*h, config.HTTPCheck{}) {
		hc.HTTP = nil
	}
}

// smtpHosts maps SMTP_CHECK host blocks: lvsbox probes one address per check.
func (m *mapper) smtpHosts(c *Node, hc *config.HealthCheck, hosts []*Node) {
	own := hc.TargetAddress.IsValid() || hc.TargetPort != 0 || hc.SourceAddress.IsValid()
	for i, h := range hosts {
		if own || i > 0 {
			m.drop(h, importer.Warning, "not mapped: an lvsbox SMTP check probes one address; this host block is an extra check keepalived runs")
			continue
		}
		var t timers
		for _, x := range h.Block {
			if !m.connKeyword(x, hc) && !(x.Keyword() == "connect_timeout" && m.timerKeyword(x, &t)) {
				m.other(x, blockSMTP)
			}
		}
		if t.connectTimeout != nil {
			hc.Timeout = *t.connectTimeout
		}
	}
}

// miscCheck finishes a MISC_CHECK.
func (m *mapper) miscCheck(c *Node, hc *config.HealthCheck, own timers) {
	if hc.Script == nil {
		m.fail(c, "MISC_CHECK without a usable misc_path; a script check needs the path of the executable")
		hc.Script = &config.ScriptCheck{}
	}
	hc.Script.Timeout = hc.Interval
	if own.miscTimeout != nil {
		hc.Script.Timeout = *own.miscTimeout
	}
	hc.Script.DynamicWeight = own.dynamic
}

// hexArg joins the arguments into one hex string (blanks allowed, as keepalived
// does); wildcards (x) are reported when allowed by keepalived but not by lvsbox.
func (m *mapper) hexArg(n *Node, wild bool) (string, bool) {
	s := strings.ToLower(strings.Join(argTexts(n), ""))
	if wild && strings.Contains(s, "x") {
		m.bad(n, "not mapped: lvsbox compares the reply's bytes exactly; wildcards (x) have no equivalent")
		return "", false
	}
	if _, err := hex.DecodeString(s); err != nil || s == "" {
		m.bad(n, "%q is not a hex string; ignored", strings.Join(argTexts(n), " "))
		return "", false
	}
	return s, true
}
