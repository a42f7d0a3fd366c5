package checker

import (
	"bytes"
	"context"
	"fmt"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// udpChecker sends the payload from a connected UDP socket and passes when a reply
// containing the expected bytes arrives before the timeout. An ICMP port
// unreachable answer fails at once ("receive: connection refused"). The first reply
// decides.
type udpChecker struct {
	base
	payload, expect []byte
}

func newUDP(b base) (*udpChecker, error) {
	payload, err := health.DecodeBytes(b.spec.UDP.Payload)
	if err != nil {
		return nil, fmt.Errorf("health: udp.payload: %w", err)
	}
	expect, err := health.DecodeBytes(b.spec.UDP.Expect)
	if err != nil {
		return nil, fmt.Errorf("health: udp.expect: %w", err)
	}
	return &udpChecker{base: b, payload: payload, expect: expect}, nil
}

func (c *udpChecker) Check(ctx context.Context) health.Result {
	ctx, cancel, start := c.attempt(ctx)
	defer cancel()
	conn, err := c.dialer("udp").DialContext(ctx, "udp", c.addr)
	if err != nil {
		return fail(start, "%s", describe(err, "connect", c.spec.Timeout))
	}
	defer conn.Close()
	defer watch(ctx, conn)()
	if _, err := conn.Write(c.payload); err != nil {
		return fail(start, "%s", describe(err, "send", c.spec.Timeout))
	}
	buf := make([]byte, 64<<10)
	n, err := conn.Read(buf)
	if err != nil {
		if isTimeout(err) {
			return fail(start, "timeout after %s: no UDP reply", c.spec.Timeout)
		}
		return fail(start, "%s", describe(err, "receive", c.spec.Timeout))
	}
	if len(c.expect) > 0 && !bytes.Contains(buf[:n], c.expect) {
		return fail(start, "UDP reply from %s does not contain %s (got %s)", c.addr, quote(string(c.expect)), quote(string(buf[:n])))
	}
	return pass(start, fmt.Sprintf("UDP reply (%d bytes) from %s", n, c.addr))
}
