package pid1

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsbox/lvsbox/init/supervise"
	"github.com/lvsbox/lvsbox/init/sysinit"
)

// Paths of the programs PID 1 runs (contract in docs/architecture.md).
const (
	DaemonPath    = "/bbin/lvsboxd"
	DaemonPidFile = "/run/lvsboxd.pid"
	DaemonHTTP    = ":80"
)

// ShellPaths are tried in order for the rescue shell.
var ShellPaths = []string{"/bbin/gosh", "/bin/sh"}

// childEnv is the environment of every child.
func childEnv(term bool) []string {
	env := []string{"PATH=/bbin:/bin", "HOME=/"}
	if term {
		env = append(env, "TERM=vt100")
	}
	return env
}

// daemonArgv is the daemon's command line.
func daemonArgv(seed string) []string {
	argv := []string{DaemonPath, "--data", sysinit.DataDir}
	if seed != "" {
		argv = append(argv, "--seed", seed)
	}
	// SCHED_RR for the whole daemon: the only setting that kept 50 ms VRRP
	// adverts on time with both cores hogged (docs/vrrp.md). The kernel's RT
	// throttling still leaves 5% of each second to normal tasks (console).
	return append(argv, "--http", DaemonHTTP, "--vrrp-rt", DaemonRealtimePriority)
}

// DaemonRealtimePriority is the daemon's SCHED_RR priority (1-99).
const DaemonRealtimePriority = "10"

// daemonLaunch prepares one start of the daemon: stdin /dev/null, stdout and
// stderr one pipe read by PID 1 and forwarded line by line to the log.
func (in *Init) daemonLaunch() (*supervise.Launch, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("lvsboxd: %w", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		null.Close()
		return nil, fmt.Errorf("lvsboxd: pipe: %w", err)
	}
	return &supervise.Launch{
		Path: DaemonPath,
		Argv: daemonArgv(in.seed.Path),
		Attr: &os.ProcAttr{
			Dir:   "/",
			Env:   childEnv(false),
			Files: []*os.File{null, pw, pw},
			Sys:   &syscall.SysProcAttr{Setsid: true},
		},
		Started: func(int) {
			pw.Close()
			null.Close()
			in.goSafe("lvsboxd output", func() {
				_ = supervise.ForwardLines(pr, func(l string) { in.logger.Line(0, "lvsboxd", l) })
				pr.Close()
			})
		},
		Cleanup: func() {
			pw.Close()
			null.Close()
		},
	}, nil
}

func (in *Init) daemonStarted(pid int) {
	if err := os.WriteFile(DaemonPidFile, fmt.Appendf(nil, "%d\n", pid), 0o644); err != nil {
		in.log.Error("write " + DaemonPidFile + ": " + err.Error())
	}
	in.log.Info(fmt.Sprintf("started lvsboxd (pid %d): %s", pid, strings.Join(daemonArgv(in.seed.Path), " ")))
}

func (in *Init) daemonExited(supervise.Exit, time.Duration) {
	_ = os.Remove(DaemonPidFile)
}

// shellPath is the first rescue shell that exists.
func shellPath() string {
	for _, p := range ShellPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ShellPaths[len(ShellPaths)-1]
}

// Banner is printed on the console right before each start of the shell.
func Banner(tty, shell string) string {
	return fmt.Sprintf("\r\nlvsbox rescue shell on %s (%s; PATH=/bbin:/bin)\r\n", filepath.Base(tty), filepath.Base(shell))
}

// shellLaunch prepares one start of the rescue shell on the board console,
// in its own session with the tty as controlling terminal.
func (in *Init) shellLaunch() (*supervise.Launch, error) {
	dev := in.board.ConsoleDevice()
	tty, err := os.OpenFile(dev, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil && dev != "/dev/console" {
		in.log.Warn(fmt.Sprintf("console %s: %v; using /dev/console", dev, err))
		dev = "/dev/console"
		tty, err = os.OpenFile(dev, os.O_RDWR|unix.O_NOCTTY, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("console: open %s: %w", dev, err)
	}
	shell := shellPath()
	// Let queued log lines out first so the banner is the last line before
	// the prompt (bounded: a stalled console must not hold PID 1).
	in.logger.Console.Flush(300 * time.Millisecond)
	// The banner goes straight to the tty, bounded so a stalled line cannot
	// hold PID 1.
	if tty.SetWriteDeadline(time.Now().Add(time.Second)) == nil {
		_, _ = tty.WriteString(Banner(dev, shell))
		_ = tty.SetWriteDeadline(time.Time{})
	} else {
		in.log.Info(strings.TrimSpace(Banner(dev, shell)))
	}
	sys := &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	return &supervise.Launch{
		Path:    shell,
		Argv:    []string{shell},
		Attr:    &os.ProcAttr{Dir: "/", Env: childEnv(true), Files: []*os.File{tty, tty, tty}, Sys: sys},
		Started: func(int) { tty.Close() },
		Cleanup: func() { tty.Close() },
	}, nil
}
