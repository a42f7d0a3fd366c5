package vmlab

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTTY plays a terminal with a tiny shell behind it: it echoes each typed
// line (as a tty in canonical mode does), then runs it. It knows `echo` (with
// empty quote pairs removed and $? expanded) and the commands in cmds.
type fakeTTY struct {
	con   *Console
	cmds  map[string]fakeCmd
	ready bool // false: input is dropped, like before the shell starts

	mu      sync.Mutex
	pending string
	typed   []string
}

type fakeCmd struct {
	out    string
	status int
}

func (f *fakeTTY) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending += string(p)
	for {
		i := strings.IndexByte(f.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := f.pending[:i]
		f.pending = f.pending[i+1:]
		f.typed = append(f.typed, line)
		if !f.ready {
			continue
		}
		f.con.Write([]byte(line + "\r\n"))
		f.exec(line)
		f.con.Write([]byte("$ "))
	}
}

func (f *fakeTTY) exec(line string) {
	status := 0
	for _, stmt := range strings.Split(line, "; ") {
		if arg, ok := strings.CutPrefix(stmt, "echo "); ok {
			arg = strings.ReplaceAll(arg, "''", "")
			arg = strings.ReplaceAll(arg, "$?", strconv.Itoa(status))
			f.con.Write([]byte(arg + "\r\n"))
			status = 0
			continue
		}
		c, ok := f.cmds[stmt]
		if !ok {
			f.con.Write([]byte(stmt + ": not found\r\n"))
			status = 127
			continue
		}
		f.con.Write([]byte(c.out))
		status = c.status
	}
}

func newFakeShell(cmds map[string]fakeCmd) (*Shell, *fakeTTY) {
	con := NewConsole(0)
	tty := &fakeTTY{con: con, cmds: cmds, ready: true}
	return NewShell(con, tty), tty
}

func TestShellRunReturnsOutput(t *testing.T) {
	sh, _ := newFakeShell(map[string]fakeCmd{
		"cat /proc/modules": {out: "ip_vs_wrr 16384 1 - Live 0x0\r\nip_vs 196608 3 ip_vs_wrr, Live 0x0\r\n"},
	})
	out, err := sh.Run(context.Background(), "cat /proc/modules")
	if err != nil {
		t.Fatal(err)
	}
	want := "ip_vs_wrr 16384 1 - Live 0x0\nip_vs 196608 3 ip_vs_wrr, Live 0x0\n"
	if out != want {
		t.Fatalf("output %q, want %q", out, want)
	}
}

func TestShellRunReportsExitStatus(t *testing.T) {
	sh, _ := newFakeShell(map[string]fakeCmd{"false": {status: 1}})
	_, err := sh.Run(context.Background(), "false")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Status != 1 {
		t.Fatalf("err %v, want exit status 1", err)
	}
	out, err := sh.Run(context.Background(), "nosuchcmd")
	if !errors.As(err, &ee) || ee.Status != 127 || !strings.Contains(out, "not found") {
		t.Fatalf("err %v out %q, want status 127 and the message", err, out)
	}
}

func TestShellRunIgnoresEarlierMarkers(t *testing.T) {
	sh, tty := newFakeShell(map[string]fakeCmd{"a": {out: "A\n"}, "b": {out: "B\n"}})
	ctx := context.Background()
	if _, err := sh.Run(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	out, err := sh.Run(ctx, "b")
	if err != nil || out != "B\n" {
		t.Fatalf("second run: %q %v", out, err)
	}
	// The typed lines must not contain the printed markers, or the tty echo
	// would match before the command ran.
	for _, line := range tty.typed {
		if strings.Contains(line, "@@VL1B@@") || strings.Contains(line, "@@VL2E") {
			t.Fatalf("typed line %q contains a printed marker", line)
		}
	}
}

func TestShellRunRejectsNewlines(t *testing.T) {
	sh, _ := newFakeShell(nil)
	if _, err := sh.Run(context.Background(), "a\nb"); err == nil {
		t.Fatal("accepted a two-line command")
	}
	if err := sh.Send("a\rb"); err == nil {
		t.Fatal("Send accepted a carriage return")
	}
}

func TestShellRunTimesOutWithoutShell(t *testing.T) {
	sh, tty := newFakeShell(nil)
	tty.ready = false
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := sh.Run(ctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
}

func TestShellWaitReadyProbesUntilAnswered(t *testing.T) {
	sh, tty := newFakeShell(nil)
	tty.mu.Lock()
	tty.ready = false
	tty.mu.Unlock()
	go func() {
		time.Sleep(60 * time.Millisecond)
		tty.mu.Lock()
		tty.ready = true
		tty.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sh.WaitReady(ctx, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	tty.mu.Lock()
	n := len(tty.typed)
	tty.mu.Unlock()
	if n < 2 {
		t.Fatalf("%d probes typed, want several", n)
	}
}

func TestParseRun(t *testing.T) {
	m := Match{Groups: []string{"x", "out\n", "3"}}
	out, st, err := parseRun(m)
	if err != nil || out != "out\n" || st != 3 {
		t.Fatalf("parseRun = %q %d %v", out, st, err)
	}
	if _, _, err := parseRun(Match{Groups: []string{"x"}}); err == nil {
		t.Fatal("accepted a match without groups")
	}
	if _, _, err := parseRun(Match{Groups: []string{"x", "", "9999999999999999999999"}}); err == nil {
		t.Fatal("accepted an out-of-range status")
	}
}

func TestRunPatternSkipsInterleavedLogLines(t *testing.T) {
	text := "echo @@VL4''B@@; x; echo @@VL4''E$?@@\n@@VL4B@@\nline1\n[  3.1] lvsbox: ready\nline2\n@@VL4E0@@\n$ "
	loc := runPattern(4).FindStringSubmatch(text)
	if loc == nil || loc[1] != "\nline1\n[  3.1] lvsbox: ready\nline2\n" || loc[2] != "0" {
		t.Fatalf("match %q", loc)
	}
	// A log line may also land between the start marker and its newline.
	split := "@@VL5B@@[  4.2] lvsinit: x\r\nout\r\n@@VL5E0@@"
	if m := runPattern(5).FindStringSubmatch(split); m == nil || m[2] != "0" {
		t.Fatalf("marker split by a log line not matched: %q", m)
	}
	if runPattern(4).MatchString(runLine(4, "x")) {
		t.Fatal("the typed line matches its own output pattern")
	}
}
