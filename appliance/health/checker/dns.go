package checker

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// dnsChecker sends one query over UDP (recursion desired) and passes when the
// rcode is the expected one and, if expect_answer is set, an answer record's data
// equals it (case-insensitively, trailing dot ignored).
type dnsChecker struct {
	base
	name   string
	qtype  uint16
	rcode  int
	expect string
	client *dns.Client
}

func newDNS(b base) (*dnsChecker, error) {
	d := b.spec.DNS
	qtype, ok := dns.StringToType[strings.ToUpper(d.QType)]
	if !ok {
		return nil, fmt.Errorf("health: dns.qtype: %q is not a record type", d.QType)
	}
	rcode, ok := dns.StringToRcode[strings.ToUpper(d.ExpectRcode)]
	if !ok {
		return nil, fmt.Errorf("health: dns.expect_rcode: %q is not an rcode", d.ExpectRcode)
	}
	return &dnsChecker{
		base:   b,
		name:   dns.Fqdn(d.Name),
		qtype:  qtype,
		rcode:  rcode,
		expect: normAnswer(d.ExpectAnswer),
		client: &dns.Client{Net: "udp", Dialer: b.dialer("udp"), Timeout: b.spec.Timeout},
	}, nil
}

func (c *dnsChecker) Check(ctx context.Context) health.Result {
	ctx, cancel, start := c.attempt(ctx)
	defer cancel()
	m := new(dns.Msg)
	m.SetQuestion(c.name, c.qtype)
	in, _, err := c.client.ExchangeContext(ctx, m, c.addr)
	if err != nil {
		if isTimeout(err) {
			return fail(start, "timeout after %s: no DNS answer", c.spec.Timeout)
		}
		return fail(start, "%s", describe(err, "query", c.spec.Timeout))
	}
	res := pass(start, fmt.Sprintf("DNS %s from %s (%d answers)", dns.RcodeToString[in.Rcode], c.addr, len(in.Answer)))
	if in.Rcode != c.rcode {
		res.OK = false
		res.Text += ", expected " + dns.RcodeToString[c.rcode]
		return res
	}
	if c.expect == "" {
		return res
	}
	var got []string
	for _, rr := range in.Answer {
		data := normAnswer(strings.TrimPrefix(rr.String(), rr.Header().String()))
		if data == c.expect {
			return res
		}
		got = append(got, data)
	}
	res.OK = false
	res.Text += fmt.Sprintf(": no answer %q (got %s)", c.expect, quote(strings.Join(got, " ")))
	return res
}

// normAnswer makes record data comparable: trimmed, lower-case, no trailing dot.
func normAnswer(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}
