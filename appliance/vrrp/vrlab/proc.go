package vrlab

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Proc is a process started in a node (ip netns exec execs the command, so
// Pid is the command's own pid).
type Proc struct {
	Name string
	Log  string
	cmd  *exec.Cmd
	f    *os.File
	done chan struct{}
	err  error
}

func (p *Proc) process() *os.Process { return p.cmd.Process }

// Pid is the process id.
func (p *Proc) Pid() int { return p.process().Pid }

// Signal sends sig.
func (p *Proc) Signal(sig os.Signal) error { return p.process().Signal(sig) }

// Kill9 is kill -9 of the process and everything in its process group (a
// crash of the whole daemon, children included); it returns when the
// process is gone and reports the instant the signal was sent.
func (p *Proc) Kill9() (time.Time, error) {
	at := time.Now()
	if err := syscall.Kill(-p.Pid(), syscall.SIGKILL); err != nil {
		return at, err
	}
	<-p.done
	return at, nil
}

// Wait waits up to timeout for the process to exit.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("vrlab: %s still running after %v", p.Name, timeout)
	}
}

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM, then SIGKILL after grace.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = p.Signal(syscall.SIGTERM)
	if p.Wait(grace) != nil {
		_ = p.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// Output is the log so far.
func (p *Proc) Output() string {
	b, _ := os.ReadFile(p.Log)
	return string(b)
}
