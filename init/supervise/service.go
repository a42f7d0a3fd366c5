package supervise

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"
)

// Launch is what one start of a service needs. Prepare builds a fresh one for
// every start (new pipes, a reopened tty).
type Launch struct {
	Path string
	Argv []string
	Attr *os.ProcAttr
	// Started runs in the parent after a successful start (close the child's
	// ends of pipes, start readers).
	Started func(pid int)
	// Cleanup runs once the process has exited, or when the start failed.
	Cleanup func()
}

// Spec describes a supervised service.
type Spec struct {
	Name    string
	Prepare func() (*Launch, error)
	Backoff Backoff
	// StopSignal is sent first on Stop (default SIGTERM); KillGroup sends
	// signals to the process group (for a shell in its own session).
	StopSignal syscall.Signal
	KillGroup  bool
	// OnStart and OnExit are called from the service goroutine.
	OnStart func(pid int)
	OnExit  func(Exit, time.Duration)
}

// Service runs a Spec: start, wait for the exit from the reaper, log, back
// off, start again, until Stop.
type Service struct {
	spec   Spec
	reaper *Reaper
	clock  Clock
	log    *slog.Logger

	mu       sync.Mutex
	pid      int
	starts   int
	stopping bool
	stopCh   chan struct{}
	done     chan struct{}
	exited   chan struct{} // replaced per run; closed when the current child is gone
}

// NewService prepares a service; call Run to start it.
func NewService(spec Spec, reaper *Reaper, clock Clock, log *slog.Logger) *Service {
	if spec.StopSignal == 0 {
		spec.StopSignal = syscall.SIGTERM
	}
	if spec.Backoff.Min == 0 {
		spec.Backoff = DefaultBackoff()
	}
	if clock == nil {
		clock = RealClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{spec: spec, reaper: reaper, clock: clock, log: log,
		stopCh: make(chan struct{}), done: make(chan struct{})}
}

// Pid is the running child's pid, 0 when none runs.
func (s *Service) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pid
}

// Starts is how many times the service was started successfully.
func (s *Service) Starts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts
}

// Done is closed when Run has returned.
func (s *Service) Done() <-chan struct{} { return s.done }

// Run supervises until Stop is called or ctx ends. It recovers its own
// panics and keeps supervising.
func (s *Service) Run(ctx context.Context) {
	defer close(s.done)
	for {
		if s.runOnce(ctx) {
			return
		}
	}
}

// runOnce does one start/wait/backoff cycle; it reports whether to return.
func (s *Service) runOnce(ctx context.Context) (stop bool) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error(fmt.Sprintf("%s: supervisor panic (recovered): %v", s.spec.Name, r))
			stop = s.isStopping() || ctx.Err() != nil
			if !stop {
				s.sleep(ctx, time.Second)
			}
		}
	}()
	if s.isStopping() || ctx.Err() != nil {
		return true
	}
	l, err := s.spec.Prepare()
	var pid int
	var exitCh <-chan Exit
	if err == nil {
		pid, exitCh, err = s.start(l)
	}
	if err != nil {
		if l != nil && l.Cleanup != nil {
			l.Cleanup()
		}
		if s.isStopping() {
			return true
		}
		d := s.spec.Backoff.Next(0)
		s.log.Error(fmt.Sprintf("%s: start failed: %v; retrying in %s", s.spec.Name, err, fmtDur(d)))
		return !s.sleep(ctx, d)
	}
	started := s.clock.Now()
	if s.spec.OnStart != nil {
		s.spec.OnStart(pid)
	}
	if l.Started != nil {
		l.Started(pid)
	}
	ex := <-exitCh
	ran := s.clock.Now().Sub(started)
	s.mu.Lock()
	s.pid = 0
	close(s.exited)
	stopping := s.stopping
	s.mu.Unlock()
	if l.Cleanup != nil {
		l.Cleanup()
	}
	if s.spec.OnExit != nil {
		s.spec.OnExit(ex, ran)
	}
	if stopping {
		s.log.Info(fmt.Sprintf("%s (pid %d) stopped: %v", s.spec.Name, pid, ex))
		return true
	}
	d := s.spec.Backoff.Next(ran)
	msg := fmt.Sprintf("%s (pid %d) exited after %s: %v; restarting in %s", s.spec.Name, pid, fmtDur(ran), ex, fmtDur(d))
	if ex.Status.Exited() && ex.Status.ExitStatus() == 0 {
		s.log.Info(msg) // a shell left with "exit"
	} else {
		s.log.Warn(msg)
	}
	return !s.sleep(ctx, d)
}

func (s *Service) start(l *Launch) (int, <-chan Exit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return 0, nil, fmt.Errorf("%s: stopping", s.spec.Name)
	}
	pid, ch, err := s.reaper.StartProcess(l.Path, l.Argv, l.Attr)
	if err != nil {
		return 0, nil, err
	}
	s.pid = pid
	s.starts++
	s.exited = make(chan struct{})
	return pid, ch, nil
}

// sleep waits d; it reports false when interrupted by Stop or ctx.
func (s *Service) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-s.clock.After(d):
		return true
	case <-s.stopCh:
		return false
	case <-ctx.Done():
		return false
	}
}

func (s *Service) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// Stop ends supervision: no more restarts; the running child gets
// StopSignal, then SIGKILL after timeout. It returns when the child is gone
// (or, if even SIGKILL did not help, after another second).
func (s *Service) Stop(timeout time.Duration) {
	s.mu.Lock()
	if !s.stopping {
		s.stopping = true
		close(s.stopCh)
	}
	pid, exited := s.pid, s.exited
	s.mu.Unlock()
	if pid == 0 {
		return
	}
	if err := s.reaper.Signal(pid, s.spec.StopSignal, s.spec.KillGroup); err != nil {
		s.log.Debug(fmt.Sprintf("%s: signal %v: %v", s.spec.Name, s.spec.StopSignal, err))
	}
	select {
	case <-exited:
		s.waitDone()
		return
	case <-time.After(timeout):
	}
	s.log.Warn(fmt.Sprintf("%s (pid %d) did not stop within %s: killing", s.spec.Name, pid, fmtDur(timeout)))
	_ = s.reaper.Signal(pid, syscall.SIGKILL, s.spec.KillGroup)
	select {
	case <-exited:
		s.waitDone()
	case <-time.After(time.Second):
		s.log.Error(fmt.Sprintf("%s (pid %d) still there after SIGKILL", s.spec.Name, pid))
	}
}

// waitDone gives Run a moment to finish its exit handling (cleanup, log).
func (s *Service) waitDone() {
	select {
	case <-s.done:
	case <-time.After(time.Second):
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}
