package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Exit is the end of one child process.
type Exit struct {
	Pid    int
	Status unix.WaitStatus
}

// String renders "exit status 3" or "killed by signal 9 (killed)".
func (e Exit) String() string {
	switch {
	case e.Status.Exited():
		return fmt.Sprintf("exit status %d", e.Status.ExitStatus())
	case e.Status.Signaled():
		s := fmt.Sprintf("killed by signal %d (%v)", int(e.Status.Signal()), e.Status.Signal())
		if e.Status.CoreDump() {
			s += ", core dumped"
		}
		return s
	default:
		return fmt.Sprintf("wait status %#x", uint32(e.Status))
	}
}

// Reaper reaps all children of the process and delivers the exits of
// registered ones.
type Reaper struct {
	log *slog.Logger

	mu      sync.Mutex
	waiters map[int]chan Exit
	orphans uint64
}

// NewReaper makes a reaper. Call Run (or Reap on SIGCHLD yourself).
func NewReaper(log *slog.Logger) *Reaper {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reaper{log: log, waiters: map[int]chan Exit{}}
}

// BecomeSubreaper makes orphaned descendants of this process re-parent to it
// (PR_SET_CHILD_SUBREAPER), so a reaper works in a process that is not PID 1,
// as in tests.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// Start runs start (which must start exactly one child and return its pid)
// under the reaper's lock and registers the child. The returned channel
// receives the child's exit exactly once.
func (r *Reaper) Start(start func() (int, error)) (int, <-chan Exit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := start()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan Exit, 1)
	r.waiters[pid] = ch
	return pid, ch, nil
}

// StartProcess starts argv[0]=name with os.StartProcess and registers it. The
// os.Process handle is released at once: the reaper alone waits.
func (r *Reaper) StartProcess(path string, argv []string, attr *os.ProcAttr) (int, <-chan Exit, error) {
	return r.Start(func() (int, error) {
		p, err := os.StartProcess(path, argv, attr)
		if err != nil {
			return 0, err
		}
		pid := p.Pid
		_ = p.Release()
		return pid, nil
	})
}

// Signal sends sig to a registered child that has not been reaped. With
// group set it signals the child's process group (-pid).
func (r *Reaper) Signal(pid int, sig syscall.Signal, group bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.waiters[pid]; !ok {
		return fmt.Errorf("signal %d: %w", pid, os.ErrProcessDone)
	}
	target := pid
	if group {
		target = -pid
	}
	err := unix.Kill(target, sig)
	if group && errors.Is(err, unix.ESRCH) {
		err = unix.Kill(pid, sig) // not a group leader (yet)
	}
	return err
}

// Tracked is the number of registered children not yet reaped.
func (r *Reaper) Tracked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waiters)
}

// Orphans is the number of unregistered children reaped so far.
func (r *Reaper) Orphans() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.orphans
}

// Reap collects every exited child without blocking and returns how many it
// reaped. It reports whether children remain (false after ECHILD).
func (r *Reaper) Reap() (n int, more bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			return n, false
		case err != nil:
			r.log.Error("reaper: wait4: " + err.Error())
			return n, true
		case pid <= 0:
			return n, true
		}
		n++
		if ch, ok := r.waiters[pid]; ok {
			delete(r.waiters, pid)
			ch <- Exit{Pid: pid, Status: ws}
			continue
		}
		r.orphans++
		r.log.Debug(fmt.Sprintf("reaped orphan pid %d: %v", pid, Exit{Pid: pid, Status: ws}))
	}
}

// Run reaps on every SIGCHLD (and once a second, in case a signal was
// coalesced away) until ctx ends.
func (r *Reaper) Run(ctx context.Context) {
	ch := make(chan os.Signal, 32)
	signal.Notify(ch, syscall.SIGCHLD)
	defer signal.Stop(ch)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	r.Reap()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		case <-t.C:
		}
		r.Reap()
	}
}

// WaitNoChildren reaps until no children are left or timeout passes, and
// reports whether none are left.
func (r *Reaper) WaitNoChildren(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if _, more := r.Reap(); !more {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
