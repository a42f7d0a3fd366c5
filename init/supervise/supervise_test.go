package supervise

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// Orphans of the test's children re-parent to the test process, like
	// they would to PID 1.
	if err := BecomeSubreaper(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func sh(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/bin/sh", "/usr/bin/sh"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no /bin/sh")
	return ""
}

func devnull(t *testing.T) *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func runReaper(t *testing.T, r *Reaper) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second, ResetAfter: time.Minute}
	var got []time.Duration
	for range 9 {
		got = append(got, b.Next(time.Second))
	}
	want := []time.Duration{500e6, 1e9, 2e9, 4e9, 8e9, 16e9, 30e9, 30e9, 30e9}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	if d := b.Next(59 * time.Second); d != 30*time.Second {
		t.Errorf("59 s run reset the backoff: %v", d)
	}
	if d := b.Next(60 * time.Second); d != 500*time.Millisecond {
		t.Errorf("60 s run did not reset: %v", d)
	}
	if d := b.Next(0); d != time.Second {
		t.Errorf("after reset: %v", d)
	}
}

func TestReaperDeliversExitStatus(t *testing.T) {
	r := NewReaper(nil)
	runReaper(t, r)
	dn := devnull(t)
	pid, ch, err := r.StartProcess(sh(t), []string{"sh", "-c", "exit 3"}, &os.ProcAttr{Files: []*os.File{dn, dn, dn}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ex := <-ch:
		if ex.Pid != pid || !ex.Status.Exited() || ex.Status.ExitStatus() != 3 || ex.String() != "exit status 3" {
			t.Fatalf("exit %+v (%v)", ex, ex)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit delivered")
	}
	if err := r.Signal(pid, syscall.SIGTERM, false); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("signal to a reaped pid: %v", err)
	}
	if r.Tracked() != 0 {
		t.Errorf("tracked = %d", r.Tracked())
	}
}

func TestReaperKilledStatus(t *testing.T) {
	r := NewReaper(nil)
	runReaper(t, r)
	dn := devnull(t)
	pid, ch, err := r.StartProcess(sh(t), []string{"sh", "-c", "exec sleep 30"}, &os.ProcAttr{Files: []*os.File{dn, dn, dn}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Signal(pid, syscall.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	ex := <-ch
	if !ex.Status.Signaled() || ex.Status.Signal() != syscall.SIGKILL || !strings.Contains(ex.String(), "signal 9") {
		t.Fatalf("got %v", ex)
	}
}

func TestReaperReapsOrphans(t *testing.T) {
	r := NewReaper(nil)
	runReaper(t, r)
	dn := devnull(t)
	// The shell exits at once; its background child becomes our orphan.
	_, ch, err := r.StartProcess(sh(t), []string{"sh", "-c", "sleep 0.2 & exit 0"}, &os.ProcAttr{Files: []*os.File{dn, dn, dn}})
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	deadline := time.Now().Add(10 * time.Second)
	for r.Orphans() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("orphan not reaped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !r.WaitNoChildren(5 * time.Second) {
		t.Fatal("children left")
	}
}

// fakeClock fires every After at once and records the delays asked for.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	delays []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delays = append(c.delays, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) Delays() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.delays...)
}

// stuckClock never fires: a service waits in its backoff until Stop.
type stuckClock struct{}

func (stuckClock) Now() time.Time                       { return time.Unix(0, 0) }
func (stuckClock) After(time.Duration) <-chan time.Time { return nil }

func TestServiceRestartsWithBackoff(t *testing.T) {
	r := NewReaper(nil)
	runReaper(t, r)
	dn := devnull(t)
	clk := &fakeClock{now: time.Unix(1000, 0)}
	var mu sync.Mutex
	var exits []string
	var pids []int
	s := NewService(Spec{
		Name: "crasher",
		Prepare: func() (*Launch, error) {
			return &Launch{Path: sh(t), Argv: []string{"sh", "-c", "exit 3"}, Attr: &os.ProcAttr{Files: []*os.File{dn, dn, dn}}}, nil
		},
		Backoff: DefaultBackoff(),
		OnStart: func(pid int) { mu.Lock(); pids = append(pids, pid); mu.Unlock() },
		OnExit:  func(ex Exit, _ time.Duration) { mu.Lock(); exits = append(exits, ex.String()); mu.Unlock() },
	}, r, clk, nil)
	go s.Run(context.Background())
	deadline := time.Now().Add(20 * time.Second)
	for s.Starts() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d starts", s.Starts())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Stop(time.Second)
	<-s.Done()
	d := clk.Delays()
	want := []time.Duration{500e6, 1e9, 2e9, 4e9}
	if len(d) < 4 || !reflect.DeepEqual(d[:4], want) {
		t.Errorf("delays %v, want prefix %v", d, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(exits) < 4 || exits[0] != "exit status 3" || len(pids) != s.Starts() {
		t.Errorf("exits %v pids %v", exits, pids)
	}
}

func TestServiceStopEscalatesToKill(t *testing.T) {
	r := NewReaper(nil)
	runReaper(t, r)
	dn := devnull(t)
	exitCh := make(chan Exit, 1)
	s := NewService(Spec{
		Name: "stubborn",
		Prepare: func() (*Launch, error) {
			return &Launch{Path: sh(t), Argv: []string{"sh", "-c", `trap "" TERM; exec sleep 30`},
				Attr: &os.ProcAttr{Files: []*os.File{dn, dn, dn}, Sys: &syscall.SysProcAttr{Setsid: true}}}, nil
		},
		KillGroup: true,
		OnExit:    func(ex Exit, _ time.Duration) { exitCh <- ex },
	}, r, nil, nil)
	go s.Run(context.Background())
	for s.Pid() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let the shell install its trap
	t0 := time.Now()
	s.Stop(300 * time.Millisecond)
	if time.Since(t0) > 5*time.Second {
		t.Errorf("Stop took %v", time.Since(t0))
	}
	select {
	case ex := <-exitCh:
		if !ex.Status.Signaled() || ex.Status.Signal() != syscall.SIGKILL {
			t.Errorf("exit %v, want SIGKILL", ex)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit")
	}
	<-s.Done()
	if s.Starts() != 1 {
		t.Errorf("restarted after Stop: %d starts", s.Starts())
	}
}

func TestServiceStartFailureBacksOff(t *testing.T) {
	r := NewReaper(nil)
	clk := &fakeClock{}
	calls := 0
	s := NewService(Spec{
		Name: "missing",
		Prepare: func() (*Launch, error) {
			calls++
			if calls == 2 {
				return nil, errors.New("prepare failed")
			}
			return &Launch{Path: "/nonexistent/lvsboxd", Argv: []string{"lvsboxd"}, Attr: &os.ProcAttr{}}, nil
		},
	}, r, clk, nil)
	go s.Run(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for len(clk.Delays()) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no retries")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Stop(time.Second)
	<-s.Done()
	if d := clk.Delays(); d[0] != 500*time.Millisecond || d[1] != time.Second || d[2] != 2*time.Second {
		t.Errorf("delays %v", d)
	}
	if s.Starts() != 0 {
		t.Errorf("starts = %d", s.Starts())
	}
}

func TestServiceForwardsOutput(t *testing.T) {
	r := NewReaper(nil)
	runReaper(t, r)
	dn := devnull(t)
	var mu sync.Mutex
	var got []string
	readersDone := make(chan struct{}, 1)
	exited := make(chan struct{}, 1)
	s := NewService(Spec{
		Name: "talker",
		Prepare: func() (*Launch, error) {
			pr, pw, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			return &Launch{
				Path: sh(t), Argv: []string{"sh", "-c", "echo hello; echo oops >&2; printf 'no newline'"},
				Attr: &os.ProcAttr{Files: []*os.File{dn, pw, pw}},
				Started: func(int) {
					pw.Close()
					go func() {
						_ = ForwardLines(pr, func(l string) { mu.Lock(); got = append(got, l); mu.Unlock() })
						pr.Close()
						readersDone <- struct{}{}
					}()
				},
				Cleanup: func() { pw.Close() },
			}, nil
		},
		OnExit: func(Exit, time.Duration) { exited <- struct{}{} },
	}, r, stuckClock{}, nil)
	go s.Run(context.Background())
	<-exited
	s.Stop(time.Second)
	<-readersDone
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(got, []string{"hello", "oops", "no newline"}) {
		t.Errorf("got %q", got)
	}
}

func TestForwardLinesSplitsLongLines(t *testing.T) {
	in := strings.Repeat("x", MaxLine+10) + "\nshort\n"
	var got []string
	if err := ForwardLines(strings.NewReader(in), func(l string) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(got[0]) != MaxLine || len(got[1]) != 10 || got[2] != "short" {
		t.Fatalf("got %d lines", len(got))
	}
}
