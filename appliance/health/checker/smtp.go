package checker

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// smtpChecker passes when the server greets with a 220 banner and answers EHLO
// (or, if EHLO is refused with 5xx, HELO) with 250. It ends with QUIT.
type smtpChecker struct{ base }

func (c *smtpChecker) Check(ctx context.Context) health.Result {
	ctx, cancel, start := c.attempt(ctx)
	defer cancel()
	conn, err := c.dialer("tcp").DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return fail(start, "%s", describe(err, "connect", c.spec.Timeout))
	}
	defer conn.Close()
	defer watch(ctx, conn)()
	tp := textproto.NewConn(conn)
	if code, msg, err := tp.ReadResponse(220); err != nil {
		return fail(start, "%s", c.smtpError("banner", code, msg, err))
	}
	helo := c.spec.SMTP.Helo
	code, msg, err := c.cmd(tp, "EHLO "+helo)
	if err != nil && code >= 500 {
		code, msg, err = c.cmd(tp, "HELO "+helo)
	}
	if err != nil {
		return fail(start, "%s", c.smtpError("EHLO/HELO", code, msg, err))
	}
	res := pass(start, fmt.Sprintf("SMTP %d from %s", code, c.addr))
	_, _, _ = c.cmd(tp, "QUIT")
	return res
}

func (c *smtpChecker) cmd(tp *textproto.Conn, line string) (int, string, error) {
	if err := tp.PrintfLine("%s", line); err != nil {
		return 0, "", err
	}
	return tp.ReadResponse(250)
}

// smtpError describes a failed step: a wrong reply code or an I/O error.
func (c *smtpChecker) smtpError(step string, code int, msg string, err error) string {
	var perr *textproto.Error
	if errors.As(err, &perr) {
		return fmt.Sprintf("SMTP %s from %s: %d %s", step, c.addr, code, firstLine(msg))
	}
	return describe(err, "waiting for "+step, c.spec.Timeout)
}
