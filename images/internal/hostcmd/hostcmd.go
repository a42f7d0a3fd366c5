package hostcmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Cmd is one host command to run.
type Cmd struct {
	Dir  string   // working directory; empty means the current one
	Env  []string // extra KEY=VALUE pairs added to the inherited environment
	Name string
	Args []string
	// Log, when set, receives the command's stderr as it runs (stdout is
	// always captured and returned).
	Log io.Writer
}

// String renders the command for logs and errors.
func (c Cmd) String() string {
	return strings.Join(append([]string{c.Name}, c.Args...), " ")
}

// Runner runs host commands and returns their standard output.
type Runner interface {
	Run(ctx context.Context, c Cmd) ([]byte, error)
}

// Exec is the Runner backed by os/exec.
type Exec struct{}

// Run implements Runner. A non-zero exit becomes an error that quotes the
// last lines of stderr.
func (Exec) Run(ctx context.Context, c Cmd) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Dir = c.Dir
	if len(c.Env) > 0 {
		cmd.Env = append(cmd.Environ(), c.Env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if c.Log != nil {
		cmd.Stderr = io.MultiWriter(&stderr, c.Log)
	}
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s: %w: %s", c, err, tail(stderr.String(), 20))
	}
	return stdout.Bytes(), nil
}

// tail returns the last n lines of s, trimmed.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Func adapts a function to Runner (fakes in tests).
type Func func(ctx context.Context, c Cmd) ([]byte, error)

// Run implements Runner.
func (f Func) Run(ctx context.Context, c Cmd) ([]byte, error) { return f(ctx, c) }
