package pid1

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/lvsbox/lvsbox/init/sysinit"
)

// handledSignals are installed before anything else: a Go PID 1 without a
// handler for SIGTERM, SIGINT or SIGHUP exits on them, and the kernel panics.
// SIGQUIT and SIGABRT would make the Go runtime exit with a stack dump.
var handledSignals = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2,
	syscall.SIGPWR, syscall.SIGQUIT, syscall.SIGABRT, syscall.SIGPIPE,
}

type actionKind int

const (
	actIgnore actionKind = iota
	actLogIgnore
	actPowerOff
	actReboot
)

// action says what PID 1 does with a signal.
type action struct {
	kind   actionKind
	reason string
}

func (a action) mode() sysinit.RebootMode {
	if a.kind == actReboot {
		return sysinit.Restart
	}
	return sysinit.PowerOff
}

func actionFor(sig os.Signal) action {
	switch sig {
	case syscall.SIGTERM:
		return action{actPowerOff, "SIGTERM"}
	case syscall.SIGINT:
		return action{actPowerOff, "SIGINT (Ctrl-Alt-Del)"}
	case syscall.SIGUSR2:
		return action{actPowerOff, "SIGUSR2"}
	case syscall.SIGPWR:
		return action{actPowerOff, "SIGPWR"}
	case syscall.SIGUSR1:
		return action{actReboot, "SIGUSR1"}
	case syscall.SIGPIPE:
		return action{actIgnore, "SIGPIPE"}
	default: // SIGHUP, SIGQUIT, SIGABRT
		name := sig.String()
		if s, ok := sig.(syscall.Signal); ok && unix.SignalName(s) != "" {
			name = unix.SignalName(s) + " (" + name + ")"
		}
		return action{actLogIgnore, name}
	}
}
