package vmlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ExitError reports a shell command that ran but exited non-zero.
type ExitError struct {
	Cmd    string
	Status int
	Output string
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("shell: %q exited with status %d: %s", e.Cmd, e.Status, strings.TrimSpace(e.Output))
}

// Shell types commands into a rescue shell on a console and reads their
// output back. Each command is framed by two echo markers whose typed form
// (with an empty pair of single quotes in the middle) differs from their printed form, so the
// terminal's echo of the typed line never matches.
type Shell struct {
	con *Console
	in  io.Writer

	mu  sync.Mutex // one command at a time; guards seq and writes to in
	seq int
}

// NewShell returns a shell that writes to in and reads from con.
func NewShell(con *Console, in io.Writer) *Shell {
	return &Shell{con: con, in: in}
}

// runLine is the line typed for command cmd with marker id.
func runLine(id int, cmd string) string {
	return fmt.Sprintf("echo @@VL%d''B@@; %s; echo @@VL%d''E$?@@\n", id, cmd, id)
}

// runPattern matches the printed output of runLine(id, ...): group 1 is the
// command output, group 2 its exit status. The start marker is not required
// to end its line: a guest log line may land between it and its newline.
func runPattern(id int) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`(?s)@@VL%dB@@(.*?)@@VL%dE(\d+)@@`, id, id))
}

// probeLine and probePattern check that the shell reads and runs commands.
func probeLine(id int) string { return fmt.Sprintf("echo @@VL%d''P@@\n", id) }

var probePattern = regexp.MustCompile(`@@VL\d+P@@`)

// parseRun extracts output and exit status from a runPattern match.
func parseRun(m Match) (string, int, error) {
	if len(m.Groups) != 3 {
		return "", 0, fmt.Errorf("shell: malformed marker match %q", m.Text())
	}
	st, err := strconv.Atoi(m.Groups[2])
	if err != nil {
		return "", 0, fmt.Errorf("shell: exit status %q: %w", m.Groups[2], err)
	}
	out := strings.TrimPrefix(strings.TrimPrefix(m.Groups[1], "\r"), "\n")
	return out, st, nil
}

func (s *Shell) next() int {
	s.seq++
	return s.seq
}

// WaitReady types harmless probe commands every interval until the shell
// answers one. Call it before the first Run: input typed before the shell
// reads the console may be lost.
func (s *Shell) WaitReady(ctx context.Context, interval time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	off := s.con.End()
	for {
		if _, err := io.WriteString(s.in, probeLine(s.next())); err != nil {
			return fmt.Errorf("shell: write probe: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, interval)
		_, err := s.con.WaitFrom(pctx, off, probePattern)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, ErrConsoleClosed) {
			return fmt.Errorf("shell: not ready: %w", err)
		}
	}
}

// Run types cmd (one line, no newline) into the shell and returns what it
// printed between the markers. Lines logged to the console by the guest at
// the same time end up in the output too. A non-zero exit status is
// reported as *ExitError together with the output.
func (s *Shell) Run(ctx context.Context, cmd string) (string, error) {
	if strings.ContainsAny(cmd, "\n\r") {
		return "", fmt.Errorf("shell: command %q: must be one line", cmd)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.next()
	off := s.con.End()
	if _, err := io.WriteString(s.in, runLine(id, cmd)); err != nil {
		return "", fmt.Errorf("shell: write %q: %w", cmd, err)
	}
	m, err := s.con.WaitFrom(ctx, off, runPattern(id))
	if err != nil {
		return "", fmt.Errorf("shell: run %q: %w", cmd, err)
	}
	out, st, err := parseRun(m)
	if err != nil {
		return "", err
	}
	if st != 0 {
		return out, &ExitError{Cmd: cmd, Status: st, Output: out}
	}
	return out, nil
}

// Send types one line without waiting for anything (for commands that do not
// return, such as powering the guest off).
func (s *Shell) Send(line string) error {
	if strings.ContainsAny(line, "\n\r") {
		return fmt.Errorf("shell: line %q: must be one line", line)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		return fmt.Errorf("shell: write %q: %w", line, err)
	}
	return nil
}
