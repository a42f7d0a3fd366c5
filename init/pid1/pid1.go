package pid1

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/init/board"
	"github.com/lvsbox/lvsbox/init/klog"
	"github.com/lvsbox/lvsbox/init/supervise"
	"github.com/lvsbox/lvsbox/init/sysinit"
)

// Init is the state of PID 1.
type Init struct {
	logger *klog.Logger
	log    *slog.Logger
	reaper *supervise.Reaper
	start  time.Time
	// startUptime is the kernel uptime when PID 1 began (after the Go
	// runtime and package initialisation).
	startUptime time.Duration

	// Set during boot, read by services afterwards.
	board       board.Board
	seed        sysinit.Seed
	dataMounted bool

	requests chan action // shutdown requests from goroutines (power button)

	mu           sync.Mutex
	services     []service
	shuttingDown bool
}

// Run is PID 1. It never returns.
func Run() {
	// Signal handlers first, before anything can go wrong.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, handledSignals...)
	cadErr := sysinit.DisableCtrlAltDel()

	logger := klog.New()
	in := &Init{
		logger:      logger,
		log:         logger.Slog("lvsinit"),
		start:       time.Now(),
		startUptime: uptime(),
		board:       board.Default(),
		requests:    make(chan action, 4),
	}
	in.reaper = supervise.NewReaper(in.log)
	// Until /proc tells the console log level, assume the kernel default (7),
	// so no kmsg copy is echoed to the console a second time.
	logger.SetKmsgFloor(7)
	os.Setenv("PATH", "/bbin:/bin")
	if cadErr != nil {
		in.log.Warn("reboot(CAD_OFF): " + cadErr.Error() + "; Ctrl-Alt-Del will reboot at once")
	}

	in.goSafe("reaper", func() { in.reaper.Run(context.Background()) })
	in.goSafe("boot", in.boot)
	for {
		in.loop(sigs)
		// loop only returns after a recovered panic.
		time.Sleep(100 * time.Millisecond)
	}
}

// loop handles signals and requests; it recovers its own panics.
func (in *Init) loop(sigs <-chan os.Signal) {
	defer klog.Recover(in.log, "main loop")
	for {
		select {
		case s := <-sigs:
			a := actionFor(s)
			switch a.kind {
			case actIgnore:
			case actLogIgnore:
				in.log.Info(fmt.Sprintf("got %s: ignored", a.reason))
			default:
				in.shutdown(a)
			}
		case a := <-in.requests:
			in.shutdown(a)
		}
	}
}

// request asks the main loop for a shutdown (from any goroutine).
func (in *Init) request(a action) {
	select {
	case in.requests <- a:
	default: // one is pending already
	}
}

// goSafe runs fn in a goroutine that recovers panics. Long-running fns that
// must keep running (the reaper) are restarted after a panic.
func (in *Init) goSafe(name string, fn func()) {
	go func() {
		for {
			panicked := true
			func() {
				defer klog.Recover(in.log, name)
				fn()
				panicked = false
			}()
			if !panicked || name != "reaper" {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}

// service is a supervised service and how long it may take to stop.
type service struct {
	svc         *supervise.Service
	stopTimeout time.Duration
}

func (in *Init) addService(s service) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.shuttingDown {
		return false
	}
	in.services = append(in.services, s)
	return true
}

func (in *Init) isShuttingDown() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.shuttingDown
}

// step runs one boot step, logs its duration and recovers a panic in it.
// Boot steps are skipped once a shutdown has begun.
func (in *Init) step(name string, fn func()) {
	in.runStep(name, fn, true)
}

func (in *Init) runStep(name string, fn func(), skipOnShutdown bool) {
	if skipOnShutdown && in.isShuttingDown() {
		in.log.Debug(name + " skipped: shutting down")
		return
	}
	t := time.Now()
	func() {
		defer klog.Recover(in.log, "boot step "+name)
		fn()
	}()
	in.log.Debug(fmt.Sprintf("%s done in %s", name, klog.FormatDuration(time.Since(t))))
}

func dur(d time.Duration) string { return klog.FormatDuration(d) }

// idle never returns. Sleeping (rather than an empty select) keeps a timer
// pending, so the Go runtime can never declare a deadlock and exit.
func idle() {
	for {
		time.Sleep(time.Hour)
	}
}
