package klog

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockingWriter never returns from Write until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	got     []string
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	b.got = append(b.got, string(p))
	b.mu.Unlock()
	return len(p), nil
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAsyncWriterNeverBlocksOnStalledWriter(t *testing.T) {
	const depth, n = 8, 1000
	bw := &blockingWriter{release: make(chan struct{})}
	a := NewAsyncWriter("console", depth)
	a.Attach(bw)

	done := make(chan struct{})
	go func() {
		for range n {
			_, _ = a.Write([]byte("line\n"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a stalled writer")
	}
	// One line may be in flight inside the blocked Write, depth are queued.
	if d := a.Dropped(); d < n-depth-1 || d > n-depth {
		t.Fatalf("dropped = %d, want %d..%d", d, n-depth-1, n-depth)
	}
	if a.Flush(50 * time.Millisecond) {
		t.Fatal("Flush reported drained while the writer is stalled")
	}
	close(bw.release)
	if !a.Flush(5 * time.Second) {
		t.Fatal("queue did not drain after release")
	}
	bw.mu.Lock()
	defer bw.mu.Unlock()
	last := bw.got[len(bw.got)-1]
	if !strings.Contains(last, "log lines dropped") {
		t.Fatalf("no drop note after the stall; last write %q", last)
	}
}

func TestAsyncWriterQueuesUntilAttached(t *testing.T) {
	a := NewAsyncWriter("kmsg", 4)
	_, _ = a.Write([]byte("early\n"))
	var buf syncBuf
	a.Attach(&buf)
	if !a.Flush(5 * time.Second) {
		t.Fatal("not drained")
	}
	if buf.String() != "early\n" {
		t.Fatalf("got %q", buf.String())
	}
	// Replacing the writer moves later lines to the new one.
	var buf2 syncBuf
	a.Attach(&buf2)
	time.Sleep(10 * time.Millisecond)
	_, _ = a.Write([]byte("late\n"))
	a.Flush(5 * time.Second)
	if buf2.String() != "late\n" {
		t.Fatalf("second writer got %q (first %q)", buf2.String(), buf.String())
	}
	a.Close()
	_, _ = a.Write([]byte("after close\n"))
	if a.Dropped() != 1 {
		t.Fatalf("write after close not counted as dropped: %d", a.Dropped())
	}
}

type panicWriter struct{ n int }

func (p *panicWriter) Write(b []byte) (int, error) {
	p.n++
	if p.n == 1 {
		panic("boom")
	}
	return 0, errors.New("broken")
}

func TestAsyncWriterSurvivesPanickingWriter(t *testing.T) {
	a := NewAsyncWriter("x", 4)
	pw := &panicWriter{}
	a.Attach(pw)
	_, _ = a.Write([]byte("1\n"))
	_, _ = a.Write([]byte("2\n"))
	if !a.Flush(5 * time.Second) {
		t.Fatal("writer goroutine died")
	}
}

func TestHandlerFormat(t *testing.T) {
	l := New()
	var con, km syncBuf
	l.Console.Attach(&con)
	l.Kmsg.Attach(&km)
	log := l.Slog("lvsinit")
	log.Info("modules loaded", "count", 3, "took", 412*time.Millisecond, "name", "a b")
	log.With("step", "disk").WithGroup("g").Warn("no data disk", "label", "lvsbox-data")
	log.Debug("hidden")
	l.SetLevel(slog.LevelDebug)
	log.Debug("shown")
	log.Error("bad\x1b[2Jthing")
	l.Line(slog.LevelInfo, "lvsboxd", "lvsbox: ready\n")
	l.Flush(5 * time.Second)

	wantCon := strings.Join([]string{
		`lvsinit: modules loaded count=3 took=0.41s name="a b"`,
		`lvsinit: WARNING: no data disk step=disk g.label=lvsbox-data`,
		`lvsinit: debug: shown`,
		`lvsinit: ERROR: bad?[2Jthing`,
		`lvsboxd: lvsbox: ready`,
	}, "\n") + "\n"
	if con.String() != wantCon {
		t.Errorf("console:\n%s\nwant:\n%s", con.String(), wantCon)
	}
	kl := strings.Split(strings.TrimSpace(km.String()), "\n")
	wantPrefix := []string{"<6>lvsinit: modules", "<4>lvsinit: WARNING", "<7>lvsinit: debug", "<3>lvsinit: ERROR", "<6>lvsboxd: lvsbox: ready"}
	if len(kl) != len(wantPrefix) {
		t.Fatalf("kmsg lines: %q", kl)
	}
	for i, p := range wantPrefix {
		if !strings.HasPrefix(kl[i], p) {
			t.Errorf("kmsg line %d = %q, want prefix %q", i, kl[i], p)
		}
	}
}

func TestKmsgFloorAvoidsConsoleEcho(t *testing.T) {
	cases := []struct {
		lv    slog.Level
		floor int
		want  int
	}{
		{slog.LevelInfo, 0, 6},
		{slog.LevelInfo, 4, 6}, // quiet: info is not echoed anyway
		{slog.LevelInfo, 7, 7}, // default loglevel 7 would echo <6>
		{slog.LevelError, 4, 4},
		{slog.LevelWarn, 0, 4},
		{slog.LevelDebug, 0, 7},
		{slog.LevelError, 9, 7},
	}
	for _, c := range cases {
		if got := KmsgPriority(c.lv, c.floor); got != c.want {
			t.Errorf("KmsgPriority(%v, %d) = %d, want %d", c.lv, c.floor, got, c.want)
		}
	}
	l := New()
	var km syncBuf
	l.Kmsg.Attach(&km)
	l.Console.Attach(&syncBuf{})
	l.SetKmsgFloor(7)
	l.Slog("lvsinit").Info("x")
	l.Flush(5 * time.Second)
	if km.String() != "<7>lvsinit: x\n" {
		t.Errorf("got %q", km.String())
	}
}

func TestLongLinesSplit(t *testing.T) {
	l := New()
	var con syncBuf
	l.Console.Attach(&con)
	l.Kmsg.Attach(&syncBuf{})
	l.Line(slog.LevelInfo, "d", strings.Repeat("x", 2500))
	l.Flush(5 * time.Second)
	lines := strings.Split(strings.TrimSpace(con.String()), "\n")
	if len(lines) != 3 || len(lines[0]) != len("d: ")+maxLine || len(lines[2]) != len("d: ")+500 {
		t.Fatalf("split into %d lines: %v", len(lines), func() []int {
			var n []int
			for _, l := range lines {
				n = append(n, len(l))
			}
			return n
		}())
	}
}

func TestRecover(t *testing.T) {
	l := New()
	var con syncBuf
	l.Console.Attach(&con)
	l.Kmsg.Attach(&syncBuf{})
	log := l.Slog("lvsinit")
	func() {
		defer Recover(log, "test goroutine")
		panic("kaboom")
	}()
	l.Flush(5 * time.Second)
	if !strings.Contains(con.String(), "panic in test goroutine (recovered): kaboom") {
		t.Fatalf("got %q", con.String())
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		412 * time.Millisecond:  "0.41s",
		12 * time.Millisecond:   "12ms",
		2*time.Minute + 3100e6:  "2m3s",
		1500 * time.Microsecond: "2ms",
		500 * time.Microsecond:  "500µs",
		3 * time.Second:         "3.00s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("%v: got %q want %q", d, got, want)
		}
	}
}
