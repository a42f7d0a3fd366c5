package vmlab

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestConsoleDropsCarriageReturns(t *testing.T) {
	c := NewConsole(0)
	c.Write([]byte("a\r\nb\r"))
	c.Write([]byte("\nc"))
	if got := c.String(); got != "a\nb\nc" {
		t.Fatalf("got %q", got)
	}
	if c.End() != 5 {
		t.Fatalf("End %d, want 5", c.End())
	}
}

func TestConsoleWaitAdvancesCursor(t *testing.T) {
	c := NewConsole(0)
	c.Write([]byte("lvsbox: ready\nother\nlvsbox: ready\n"))
	ctx := context.Background()
	re := regexp.MustCompile(`lvsbox: ready`)
	m1, err := c.Wait(ctx, re)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := c.Wait(ctx, re)
	if err != nil {
		t.Fatal(err)
	}
	if m1.Start != 0 || m2.Start != 20 || c.Cursor() != m2.End {
		t.Fatalf("matches at %d and %d, cursor %d", m1.Start, m2.Start, c.Cursor())
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(short, re); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third wait: %v, want deadline exceeded", err)
	}
}

func TestConsoleWaitSeesLaterWritesAcrossChunks(t *testing.T) {
	c := NewConsole(0)
	go func() {
		for _, s := range []string{"boot...\nlvs", "box: rea", "dy (pid=", "42)\n"} {
			time.Sleep(5 * time.Millisecond)
			c.Write([]byte(s))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.Wait(ctx, regexp.MustCompile(`lvsbox: ready \(pid=(\d+)\)`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Groups[1] != "42" || m.Text() != "lvsbox: ready (pid=42)" {
		t.Fatalf("match %+v", m)
	}
}

func TestConsoleSkipIgnoresOldText(t *testing.T) {
	c := NewConsole(0)
	c.Write([]byte("$ old prompt\n"))
	c.Skip()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx, regexp.MustCompile(`prompt`)); err == nil {
		t.Fatal("matched text from before Skip")
	}
}

func TestConsoleRingKeepsAbsoluteOffsets(t *testing.T) {
	c := NewConsole(8)
	c.Write([]byte("0123456789"))
	c.Write([]byte("abc"))
	if got := c.String(); got != "56789abc" {
		t.Fatalf("kept %q", got)
	}
	if c.End() != 13 {
		t.Fatalf("End %d, want 13", c.End())
	}
	m, err := c.WaitFrom(context.Background(), 0, regexp.MustCompile(`9a`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Start != 9 || m.End != 11 {
		t.Fatalf("match at [%d,%d), want [9,11)", m.Start, m.End)
	}
	if got := c.Since(11); got != "bc" {
		t.Fatalf("Since(11) = %q", got)
	}
	if got := c.Since(100); got != "" {
		t.Fatalf("Since(100) = %q", got)
	}
}

func TestConsoleCloseEndsWaits(t *testing.T) {
	c := NewConsole(0)
	c.Write([]byte("Kernel panic - not syncing\n"))
	go func() {
		time.Sleep(10 * time.Millisecond)
		c.Close()
	}()
	_, err := c.Wait(context.Background(), regexp.MustCompile(`lvsbox: ready`))
	if !errors.Is(err, ErrConsoleClosed) {
		t.Fatalf("wait after close: %v", err)
	}
	if !strings.Contains(err.Error(), "Kernel panic") {
		t.Fatalf("error lacks the console tail: %v", err)
	}
	// Text that arrived before the close still matches.
	if _, err := c.WaitFrom(context.Background(), 0, regexp.MustCompile(`panic`)); err != nil {
		t.Fatalf("match before close: %v", err)
	}
}

func TestConsoleTail(t *testing.T) {
	c := NewConsole(0)
	c.Write([]byte("1\n2\n3\n4\n"))
	if got := c.Tail(2); got != "3\n4" {
		t.Fatalf("Tail(2) = %q", got)
	}
}
