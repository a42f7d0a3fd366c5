package checker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// scriptChecker runs an executable in its own process group; exit 0 passes, and
// with misc_dynamic exit 2-255 passes with weight = code - 2. On timeout the whole
// process group is killed.
type scriptChecker struct {
	base
	env []string
}

func newScript(b base, extra []string) *scriptChecker {
	env := append(os.Environ(),
		"LVSBOX_CHECK_ADDRESS="+b.target.Addr().String(),
		"LVSBOX_CHECK_PORT="+strconv.Itoa(int(b.target.Port())),
	)
	return &scriptChecker{base: b, env: append(env, extra...)}
}

func (c *scriptChecker) Check(ctx context.Context) health.Result {
	ctx, cancel, start := c.attempt(ctx)
	defer cancel()
	sc := c.spec.Script
	cmd := exec.CommandContext(ctx, sc.Path, sc.Args...)
	cmd.Env = c.env
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &tailBuffer{max: 512}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error {
		// Kill the whole group: the script and everything it started.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// If a grandchild escaped the group and holds the pipe, stop waiting for it.
	cmd.WaitDelay = 500 * time.Millisecond
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fail(start, "timeout after %s (process group killed)", sc.Timeout)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return pass(start, "script exit 0")
	case errors.As(err, &exitErr):
		ws, _ := exitErr.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return fail(start, "script killed by signal %d%s", ws.Signal(), outputSuffix(out))
		}
		code := exitErr.ExitCode()
		if sc.MiscDynamic && code >= 2 && code <= 255 {
			res := pass(start, fmt.Sprintf("script exit %d (weight %d)", code, code-2))
			res.Weight, res.HasWeight = code-2, true
			return res
		}
		return fail(start, "script exit %d%s", code, outputSuffix(out))
	default:
		return fail(start, "script: %v", err)
	}
}

func outputSuffix(b *tailBuffer) string {
	s := b.String()
	if s == "" {
		return ""
	}
	return ": " + s
}

// tailBuffer keeps the last max bytes written (the script's last words).
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

// String returns the last non-empty line of the output.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(b.buf)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
