package vmlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// HostConfig describes a host namespace (a client or a real server) with one
// interface, eth0, on a lab segment.
type HostConfig struct {
	// Name is short and unique in the lab ([a-z0-9], e.g. "rs1", "client").
	Name    string
	Segment string
	// Addrs are CIDR addresses for eth0 ("198.51.100.11/24").
	Addrs []string
	// Gateway, if set, becomes the default route.
	Gateway string
}

// Host is a network namespace joined to a segment by a veth pair.
type Host struct {
	Name string
	// NS is the namespace name (for `ip netns exec`).
	NS string

	lab   *Lab
	mu    sync.Mutex
	procs []*Proc
}

var hostNameRE = regexp.MustCompile(`^[a-z0-9]{1,12}$`)

// AddHost creates a host namespace with eth0 on cfg.Segment, its addresses,
// lo up and the default route.
func (l *Lab) AddHost(ctx context.Context, cfg HostConfig) (*Host, error) {
	if !hostNameRE.MatchString(cfg.Name) {
		return nil, fmt.Errorf("vmlab: host name %q: want 1-12 of [a-z0-9]", cfg.Name)
	}
	hi, err := l.reserve("host", cfg.Name)
	if err != nil {
		return nil, err
	}
	h := &Host{Name: cfg.Name, NS: l.Name + "-" + cfg.Name, lab: l}
	peer := fmt.Sprintf("h%d", hi)

	if _, err := l.ip(ctx, "netns", "add", h.NS); err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		_, err := l.ip(context.Background(), "netns", "del", h.NS)
		return nil, errors.Join(fmt.Errorf("vmlab: host %s: %w", h.Name, errClosing), err)
	}
	l.hosts = append(l.hosts, h)
	l.mu.Unlock()

	steps := [][]string{
		{"-n", h.NS, "link", "set", "lo", "up"},
		{"-n", l.Name, "link", "add", peer, "type", "veth", "peer", "name", "eth0", "netns", h.NS},
	}
	for _, a := range cfg.Addrs {
		steps = append(steps, []string{"-n", h.NS, "addr", "add", a, "dev", "eth0"})
	}
	steps = append(steps, []string{"-n", h.NS, "link", "set", "eth0", "up"})
	for _, s := range steps {
		if _, err := l.ip(ctx, s...); err != nil {
			return nil, fmt.Errorf("vmlab: host %s: %w", h.Name, err)
		}
	}
	if err := l.attach(ctx, peer, cfg.Segment); err != nil {
		return nil, fmt.Errorf("vmlab: host %s: %w", h.Name, err)
	}
	if cfg.Gateway != "" {
		if _, err := l.ip(ctx, "-n", h.NS, "route", "add", "default", "via", cfg.Gateway); err != nil {
			return nil, fmt.Errorf("vmlab: host %s: %w", h.Name, err)
		}
	}
	return h, nil
}

// Exec runs a command inside the host namespace and returns its combined
// output.
func (h *Host) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	return h.lab.run(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Start starts a long-running command inside the host namespace. Its output
// goes to a Console (Proc.Out) and to <host>-<n>.log in the lab directory.
// The lab stops it on Close.
func (h *Host) Start(name string, args ...string) (*Proc, error) {
	h.mu.Lock()
	n := len(h.procs)
	h.mu.Unlock()
	logPath := filepath.Join(h.lab.Dir, fmt.Sprintf("%s-%d-%s.log", h.Name, n, filepath.Base(name)))
	p, err := startProc(logPath, h.lab.keep, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("vmlab: host %s: start %s: %w", h.Name, name, err)
	}
	h.mu.Lock()
	h.procs = append(h.procs, p)
	h.mu.Unlock()
	return p, nil
}

func (h *Host) stopAll(grace time.Duration) error {
	h.mu.Lock()
	procs := h.procs
	h.mu.Unlock()
	var errs []error
	for _, p := range procs {
		if err := p.Stop(grace); err != nil {
			errs = append(errs, fmt.Errorf("vmlab: host %s: %w", h.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Proc is a process started in a host namespace.
type Proc struct {
	// Out holds its stdout and stderr.
	Out  *Console
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error // from cmd.Wait, valid after done
}

func startProc(logPath string, keep bool, name string, args ...string) (*Proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p := &Proc{Out: NewConsole(0), log: f, done: make(chan struct{})}
	cmd := exec.Command(name, args...)
	w := io.MultiWriter(p.Out, f)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = procAttr(keep)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		p.Out.Close()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// procAttr puts children in their own process group (a terminal's Ctrl-C
// reaches only the test binary, which then cleans up) and, unless the lab is
// kept, kills them when the test binary dies.
func procAttr(keep bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if !keep {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}

// Pid is the process id (`ip netns exec` execs the command, so this is the
// command itself).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits for the process to exit and returns its exit error.
func (p *Proc) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("vmlab: wait for %s: %w", strings.Join(p.cmd.Args, " "), ctx.Err())
	}
}

// Stop sends SIGTERM, waits up to grace, then SIGKILL. A process that has
// already exited is not an error.
func (p *Proc) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("process %d did not exit after SIGKILL", p.Pid())
	}
}
