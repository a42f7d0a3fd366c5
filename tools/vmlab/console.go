package vmlab

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// ErrConsoleClosed is returned by waits that can no longer match because the
// console stream ended (QEMU exited or the socket closed).
var ErrConsoleClosed = errors.New("console closed")

// DefaultConsoleLimit is how many bytes of console text a Console keeps in
// memory; older text is dropped (the full log is still written to the sink).
const DefaultConsoleLimit = 4 << 20

// minRescan is the least time between two regexp scans of one waiter, so a
// console fed one byte at a time does not make waiting quadratic.
const minRescan = 10 * time.Millisecond

// Match is one regexp match on the console. Offsets are absolute positions in
// the console text (bytes written since the start, carriage returns removed).
type Match struct {
	Start, End int64
	// Groups holds the whole match and its submatches, like
	// regexp.FindStringSubmatch.
	Groups []string
}

// Text is the whole matched text.
func (m Match) Text() string { return m.Groups[0] }

// Console is an in-memory ring of console text with absolute offsets. It is an
// io.Writer; writers feed it, waiters match regular expressions against it.
// Carriage returns are dropped so "\r\n" line ends read as "\n".
type Console struct {
	mu      sync.Mutex
	buf     []byte // text at offsets [base, base+len(buf))
	base    int64
	limit   int
	cursor  int64
	changed chan struct{} // closed (and replaced) on every write or close
	closed  bool
}

// NewConsole returns an empty console keeping at most limit bytes in memory
// (DefaultConsoleLimit when limit <= 0).
func NewConsole(limit int) *Console {
	if limit <= 0 {
		limit = DefaultConsoleLimit
	}
	return &Console{limit: limit, changed: make(chan struct{})}
}

// Write appends p (minus carriage returns). It never fails; writes after
// Close are dropped.
func (c *Console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return len(p), nil
	}
	for _, b := range p {
		if b != '\r' {
			c.buf = append(c.buf, b)
		}
	}
	if over := len(c.buf) - c.limit; over > 0 {
		c.buf = append(c.buf[:0], c.buf[over:]...)
		c.base += int64(over)
	}
	c.notifyLocked()
	return len(p), nil
}

// Close marks the end of the stream: pending and later waits that do not
// match the remaining text fail with ErrConsoleClosed.
func (c *Console) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.notifyLocked()
	}
}

func (c *Console) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// End is the absolute offset just past the last byte written.
func (c *Console) End() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base + int64(len(c.buf))
}

// Cursor is the offset from which Wait matches next.
func (c *Console) Cursor() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor
}

// Skip moves the cursor to the end of the text seen so far, so the next Wait
// only matches output that arrives later.
func (c *Console) Skip() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cursor = c.base + int64(len(c.buf))
}

// Since returns the text from offset off to the end (from the oldest kept
// byte if off was dropped already).
func (c *Console) Since(off int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if off < c.base {
		off = c.base
	}
	if rel := off - c.base; rel < int64(len(c.buf)) {
		return string(c.buf[rel:])
	}
	return ""
}

// String returns all text still kept in memory.
func (c *Console) String() string { return c.Since(0) }

// Tail returns the last n lines kept in memory.
func (c *Console) Tail(n int) string {
	s := strings.TrimRight(c.String(), "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Wait waits until re matches the text from the cursor onward, moves the
// cursor past the match and returns it.
func (c *Console) Wait(ctx context.Context, re *regexp.Regexp) (Match, error) {
	m, err := c.WaitFrom(ctx, c.Cursor(), re)
	if err != nil {
		return m, err
	}
	c.mu.Lock()
	if m.End > c.cursor {
		c.cursor = m.End
	}
	c.mu.Unlock()
	return m, nil
}

// WaitFrom waits until re matches the text from offset off onward, without
// touching the cursor. On failure the error carries the console tail.
func (c *Console) WaitFrom(ctx context.Context, off int64, re *regexp.Regexp) (Match, error) {
	var last time.Time
	for {
		m, ok, closed, changed := c.find(off, re)
		if ok {
			return m, nil
		}
		if closed {
			return Match{}, c.waitErr(re, ErrConsoleClosed)
		}
		select {
		case <-ctx.Done():
			// One last look: the text may have arrived with the deadline.
			if m, ok, _, _ := c.find(off, re); ok {
				return m, nil
			}
			return Match{}, c.waitErr(re, ctx.Err())
		case <-changed:
		}
		if d := minRescan - time.Since(last); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
		last = time.Now()
	}
}

func (c *Console) find(off int64, re *regexp.Regexp) (m Match, ok, closed bool, changed <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if off < c.base {
		off = c.base
	}
	rel := off - c.base
	if rel > int64(len(c.buf)) {
		rel = int64(len(c.buf))
	}
	text := c.buf[rel:]
	loc := re.FindSubmatchIndex(text)
	if loc == nil {
		return Match{}, false, c.closed, c.changed
	}
	groups := make([]string, len(loc)/2)
	for i := range groups {
		if loc[2*i] >= 0 {
			groups[i] = string(text[loc[2*i]:loc[2*i+1]])
		}
	}
	start := c.base + rel
	return Match{Start: start + int64(loc[0]), End: start + int64(loc[1]), Groups: groups}, true, c.closed, c.changed
}

func (c *Console) waitErr(re *regexp.Regexp, err error) error {
	return fmt.Errorf("console: waiting for /%s/: %w; last console lines:\n%s", re, err, c.Tail(15))
}
