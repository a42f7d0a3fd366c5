package vmtest

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/vmlab"
)

// powerOffLimit is how long QEMU may take to exit after the request.
const powerOffLimit = 10 * time.Second

var (
	powerDownRE = regexp.MustCompile(`reboot: Power down`)
	panicRE     = regexp.MustCompile(`Kernel panic|Attempted to kill init`)
)

// checkPowerOff waits for QEMU to exit after a power-off request made at
// start and checks that it was a clean power-off: exit code 0 and the
// kernel's "reboot: Power down" (not a panic, which -no-reboot also turns
// into exit 0).
func checkPowerOff(t *testing.T, g *vmlab.Guest, start time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), powerOffLimit)
	defer cancel()
	code, err := g.Wait(ctx)
	if err != nil {
		t.Fatalf("qemu still running %v after the request: %v\nlast console lines:\n%s", powerOffLimit, err, g.Console.Tail(15))
	}
	t.Logf("qemu exited with %d %v after the request", code, time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Errorf("qemu exit code %d, want 0", code)
	}
	// The console reader may still be draining the last bytes.
	dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer dcancel()
	if _, err := g.Console.WaitFrom(dctx, 0, powerDownRE); err != nil {
		t.Errorf("no clean power-off on the console: %v", err)
	}
	if m := panicRE.FindString(g.Console.String()); m != "" {
		t.Errorf("console shows %q", m)
	}
}

func TestPowerOff(t *testing.T) {
	img := vmlab.NeedImage(t)

	t.Run("acpi_button", func(t *testing.T) {
		t.Parallel()
		l := vmlab.NewTestLab(t)
		g := boot(t, l, vmlab.GuestConfig{Name: "acpi", Image: img})
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		if err := g.PowerDown(ctx); err != nil {
			t.Fatal(err)
		}
		checkPowerOff(t, g, start)
	})

	t.Run("sigterm_pid1", func(t *testing.T) {
		t.Parallel()
		l := vmlab.NewTestLab(t)
		g := boot(t, l, vmlab.GuestConfig{Name: "term", Image: img})
		start := time.Now()
		// u-root's kill takes -15 or -SIGTERM (not -TERM).
		if err := g.Shell.Send("kill -15 1"); err != nil {
			t.Fatal(err)
		}
		checkPowerOff(t, g, start)
	})
}
