package klog

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Default queue depths.
const (
	ConsoleQueue = 1024
	KmsgQueue    = 1024
	// maxLine bounds one formatted line (the kernel truncates kmsg records
	// near 1 KiB anyway).
	maxLine = 1000
)

// Logger fans lines out to the console and /dev/kmsg sinks.
type Logger struct {
	Console *AsyncWriter
	Kmsg    *AsyncWriter

	mu        sync.Mutex
	kmsgFloor int // lowest kmsg priority the kernel will not echo to the console
	level     slog.LevelVar
}

// New makes a logger whose sinks wait for Attach.
func New() *Logger {
	l := &Logger{
		Console:   NewAsyncWriter("console", ConsoleQueue),
		Kmsg:      NewAsyncWriter("kmsg", KmsgQueue),
		kmsgFloor: 0,
	}
	return l
}

// SetLevel sets the minimum level of the slog handler.
func (l *Logger) SetLevel(lv slog.Level) { l.level.Set(lv) }

// SetKmsgFloor records the kernel console log level. A kmsg record with a
// priority below it is printed by the kernel on the console as well, which
// would show every line twice; such records are written with this priority
// instead. Pass 0 to keep the natural priorities.
func (l *Logger) SetKmsgFloor(consoleLoglevel int) {
	l.mu.Lock()
	l.kmsgFloor = consoleLoglevel
	l.mu.Unlock()
}

// KmsgPriority maps a slog level to a syslog priority (err 3, warning 4,
// info 6, debug 7), raised to floor when floor is set and higher.
func KmsgPriority(lv slog.Level, floor int) int {
	p := 6
	switch {
	case lv >= slog.LevelError:
		p = 3
	case lv >= slog.LevelWarn:
		p = 4
	case lv < slog.LevelInfo:
		p = 7
	}
	if floor > p {
		p = floor
	}
	if p > 7 {
		p = 7
	}
	return p
}

// Line writes one line as "name: text" (for example a line a supervised
// daemon printed). Long lines are split; control characters are escaped.
func (l *Logger) Line(lv slog.Level, name, text string) {
	text = strings.TrimRight(text, "\r\n")
	for {
		chunk := text
		if len(chunk) > maxLine {
			chunk = chunk[:maxLine]
		}
		l.emit(lv, name+": "+sanitize(chunk))
		if len(text) <= maxLine {
			return
		}
		text = text[maxLine:]
	}
}

func (l *Logger) emit(lv slog.Level, line string) {
	l.mu.Lock()
	floor := l.kmsgFloor
	l.mu.Unlock()
	_, _ = l.Console.Write([]byte(line + "\n"))
	_, _ = l.Kmsg.Write([]byte("<" + strconv.Itoa(KmsgPriority(lv, floor)) + ">" + line + "\n"))
}

// Flush waits (bounded) for both sinks to drain.
func (l *Logger) Flush(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	l.Console.Flush(timeout)
	l.Kmsg.Flush(time.Until(deadline))
}

// Slog returns a *slog.Logger whose lines start with "name: ".
func (l *Logger) Slog(name string) *slog.Logger {
	return slog.New(&handler{l: l, name: name})
}

type handler struct {
	l      *Logger
	name   string
	attrs  string // preformatted " k=v" pairs
	prefix string // group prefix "g1.g2."
}

func (h *handler) Enabled(_ context.Context, lv slog.Level) bool { return lv >= h.l.level.Level() }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("ERROR: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("WARNING: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.prefix, a)
		return true
	})
	h.l.Line(r.Level, h.name, b.String())
	return nil
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		appendAttr(&b, h.prefix, a)
	}
	n := *h
	n.attrs = b.String()
	return &n
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			appendAttr(b, p, g)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(prefix + a.Key)
	b.WriteByte('=')
	b.WriteString(quote(formatValue(a.Value)))
}

func formatValue(v slog.Value) string {
	switch v.Kind() {
	case slog.KindDuration:
		return FormatDuration(v.Duration())
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	default:
		return v.String()
	}
}

// FormatDuration prints durations the way boot logs read best: "0.41s",
// "12ms", "2m3s".
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.String()
	case d < 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	default:
		return d.Round(time.Second).String()
	}
}

func quote(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == ' ' || r == '=' || r == '"' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func sanitize(s string) string {
	for _, r := range s {
		if r != '\t' && unicode.IsControl(r) {
			return strings.Map(func(r rune) rune {
				if r != '\t' && unicode.IsControl(r) {
					return '?'
				}
				return r
			}, s)
		}
	}
	return s
}

// Recover logs a recovered panic with its stack. Use as
// "defer klog.Recover(log, "what")" at the top of every goroutine.
func Recover(log *slog.Logger, what string) {
	if r := recover(); r != nil {
		log.Error(fmt.Sprintf("panic in %s (recovered): %v", what, r))
		for _, l := range strings.Split(strings.TrimSpace(string(debug.Stack())), "\n") {
			log.Error("  " + l)
		}
	}
}
