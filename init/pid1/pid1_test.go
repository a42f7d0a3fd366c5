package pid1

import (
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/lvsbox/lvsbox/init/sysinit"
)

func TestActionFor(t *testing.T) {
	cases := map[os.Signal]struct {
		kind actionKind
		mode sysinit.RebootMode
	}{
		syscall.SIGTERM: {actPowerOff, sysinit.PowerOff},
		syscall.SIGINT:  {actPowerOff, sysinit.PowerOff},
		syscall.SIGUSR2: {actPowerOff, sysinit.PowerOff},
		syscall.SIGPWR:  {actPowerOff, sysinit.PowerOff},
		syscall.SIGUSR1: {actReboot, sysinit.Restart},
		syscall.SIGHUP:  {actLogIgnore, sysinit.PowerOff},
		syscall.SIGQUIT: {actLogIgnore, sysinit.PowerOff},
		syscall.SIGABRT: {actLogIgnore, sysinit.PowerOff},
		syscall.SIGPIPE: {actIgnore, sysinit.PowerOff},
	}
	for sig, want := range cases {
		a := actionFor(sig)
		if a.kind != want.kind || a.mode() != want.mode || a.reason == "" {
			t.Errorf("%v: got %+v mode %v", sig, a, a.mode())
		}
	}
	if r := actionFor(syscall.SIGHUP).reason; r != "SIGHUP (hangup)" {
		t.Errorf("SIGHUP reason %q", r)
	}
	// Every signal PID 1 acts on must be installed, or the Go runtime
	// kills PID 1 on it.
	for sig := range cases {
		found := false
		for _, h := range handledSignals {
			found = found || h == sig
		}
		if !found {
			t.Errorf("%v not in handledSignals", sig)
		}
	}
}

func TestDaemonArgv(t *testing.T) {
	if got := daemonArgv(""); !reflect.DeepEqual(got, []string{"/bbin/lvsboxd", "--data", "/var/lib/lvsbox", "--http", ":80", "--vrrp-rt", "10"}) {
		t.Errorf("no seed: %q", got)
	}
	want := []string{"/bbin/lvsboxd", "--data", "/var/lib/lvsbox", "--seed", "/run/lvsbox/seed.json", "--http", ":80", "--vrrp-rt", "10"}
	if got := daemonArgv("/run/lvsbox/seed.json"); !reflect.DeepEqual(got, want) {
		t.Errorf("seed: %q", got)
	}
}

func TestBannerAndEnv(t *testing.T) {
	b := Banner("/dev/ttyS0", "/bbin/gosh")
	if !strings.Contains(b, "lvsbox rescue shell on ttyS0 (gosh") || !strings.HasSuffix(b, "\r\n") {
		t.Errorf("banner %q", b)
	}
	if got := childEnv(true); !reflect.DeepEqual(got, []string{"PATH=/bbin:/bin", "HOME=/", "TERM=vt100"}) {
		t.Errorf("env %q", got)
	}
}
