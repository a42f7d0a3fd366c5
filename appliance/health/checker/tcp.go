package checker

import (
	"context"
	"net"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// tcpChecker passes when a TCP connection to the target is established. The
// connection is closed with a reset (SO_LINGER 0), as HAProxy does, so thousands of
// checks per second leave no TIME_WAIT sockets on the box.
type tcpChecker struct{ base }

func (c *tcpChecker) Check(ctx context.Context) health.Result {
	ctx, cancel, start := c.attempt(ctx)
	defer cancel()
	conn, err := c.dialer("tcp").DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return fail(start, "%s", describe(err, "connect", c.spec.Timeout))
	}
	res := pass(start, "connected to "+c.addr)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
	return res
}
