// Package checker owns the probes of lvsbox's health checker: one Checker per
// (target, spec), built by New, for tcp, http, https, udp, dns, smtp, icmp and
// script checks. A Check runs one attempt under the spec's timeout (a context
// deadline), honours the source address, and returns a health.Result whose Text an
// operator can act on.
//
// It must not keep state between attempts (rise/fall, retries and scheduling belong
// to the state and scheduler packages), follow HTTP redirects, or leave processes or
// sockets behind after a Check returns.
package checker
