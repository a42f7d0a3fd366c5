package pid1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsbox/lvsbox/init/board"
	"github.com/lvsbox/lvsbox/init/kmod"
	"github.com/lvsbox/lvsbox/init/power"
	"github.com/lvsbox/lvsbox/init/supervise"
	"github.com/lvsbox/lvsbox/init/sysinit"
)

// Timeouts of boot and shutdown steps.
const (
	DiskWait          = 2 * time.Second
	ButtonSearch      = 10 * time.Second
	DaemonStopTimeout = 5 * time.Second
	ShellStopTimeout  = time.Second
)

// extraModules are loaded (as optional) even when board.json does not list
// them: the power button needs button + evdev, the seed needs qemu_fw_cfg.
var extraModules = []string{"button", "evdev", "qemu_fw_cfg"}

func (in *Init) boot() {
	in.step("mounts", in.mountBase)
	in.step("logging", in.setupLogging)
	in.log.Info(fmt.Sprintf("lvsbox init starting: kernel %s, started at uptime %s", release(), dur(in.startUptime)))
	in.step("board", in.loadBoard)
	in.step("hostname", func() {
		if err := sysinit.SetHostname(in.board.Hostname); err != nil {
			in.log.Error(err.Error())
		}
	})
	in.step("loopback", func() {
		if err := sysinit.LoopbackUp(); err != nil {
			in.log.Error(err.Error())
		}
	})
	in.step("modules", in.loadModules)
	in.goSafe("power button", in.watchPowerButton)
	in.step("data disk", in.mountData)
	in.step("seed", in.findSeed)
	in.log.Info(fmt.Sprintf("boot steps done in %s (uptime %s)", dur(time.Since(in.start)), dur(uptime())))
	in.startServices()
}

func (in *Init) mountBase() {
	done, err := sysinit.MountAll(sysinit.SysMounter{}, sysinit.BaseMounts(), sysinit.LiveMountPoints)
	if err != nil {
		in.log.Error("mounts: " + err.Error())
	}
	in.log.Debug("mounted " + strings.Join(done, " "))
	for _, d := range []string{"/run/lvsbox", "/var/lib"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			in.log.Error(err.Error())
		}
	}
}

// setupLogging attaches the console and /dev/kmsg to the logger (lines logged
// so far waited in the queues).
func (in *Init) setupLogging() {
	sysinit.FixStdio("/dev/console")
	// Before /dev/kmsg is attached: without this the kernel rate-limits
	// writers to 10 lines per 5 s.
	kmsgErr := sysinit.AllowKmsgWrites()
	if lv, err := sysinit.ReadConsoleLoglevel(); err == nil {
		in.logger.SetKmsgFloor(lv)
	}
	if c, err := os.OpenFile("/dev/console", os.O_WRONLY|unix.O_NOCTTY, 0); err == nil {
		in.logger.Console.Attach(c)
	} else {
		in.logger.Console.Attach(os.Stderr)
	}
	if k, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0); err == nil {
		in.logger.Kmsg.Attach(k)
	} else {
		in.logger.Kmsg.Close()
		in.log.Warn("open /dev/kmsg: " + err.Error())
	}
	cmd := sysinit.ReadCmdline()
	if cmd.Has("lvsinit.debug") {
		in.logger.SetLevel(slog.LevelDebug)
	}
	if kmsgErr != nil {
		in.log.Debug("printk_devkmsg=on: " + kmsgErr.Error())
	}
}

func (in *Init) loadBoard() {
	b, unknown, err := board.Load(board.DefaultPath)
	if err != nil {
		in.log.Warn(err.Error())
	}
	if len(unknown) > 0 {
		in.log.Warn(fmt.Sprintf("board: unknown fields ignored: %s", strings.Join(unknown, ", ")))
	}
	in.board = b
	in.log.Info(fmt.Sprintf("board %q, hostname %s, console %s, %d modules, %d optional",
		b.Board, b.Hostname, b.ConsoleDevice(), len(b.Modules), len(b.OptionalModules)))
}

func (in *Init) loadModules() {
	t := time.Now()
	rel := release()
	dir, err := kmod.ModuleDir(rel)
	if err != nil {
		in.log.Warn(err.Error() + ": no modules loaded")
		return
	}
	idx, err := kmod.LoadIndex(os.DirFS(dir))
	if err != nil {
		in.log.Error(err.Error() + ": no modules loaded")
		return
	}
	already, _ := kmod.LoadedModules()
	p := kmod.NewProber(idx, dir, kmod.FinitLoader{}, already, in.log)
	p.SetParams(in.board.ModuleOptions)
	failedRequired := 0
	for _, m := range in.board.Modules {
		if err := p.Probe(m); err != nil {
			failedRequired++
			in.log.Error(fmt.Sprintf("required module %s: %v", m, err))
		}
	}
	optional := slices.Clone(in.board.OptionalModules)
	for _, m := range extraModules {
		if !slices.Contains(optional, m) && !slices.Contains(in.board.Modules, m) {
			optional = append(optional, m)
		}
	}
	failedOptional := 0
	for _, m := range optional {
		if err := p.Probe(m); err != nil {
			failedOptional++
			if errors.Is(err, kmod.ErrNotFound) {
				in.log.Warn(fmt.Sprintf("optional module %s: not in the image", m))
			} else {
				in.log.Warn(fmt.Sprintf("optional module %s: %v", m, err))
			}
		}
	}
	cp := p.Coldplug(kmod.SysFS(), 4)
	for a, err := range cp.Failed {
		in.log.Debug(fmt.Sprintf("coldplug %s: %v", a, err))
	}
	in.log.Info(fmt.Sprintf("modules loaded in %s: %d inserted (%d required listed, %d failed; %d optional, %d failed; coldplug %d devices, %d matched, %d failed)",
		dur(time.Since(t)), len(p.Loaded), len(in.board.Modules), failedRequired, len(optional), failedOptional,
		cp.Devices, cp.Matched, len(cp.Failed)))
	in.log.Debug("modules inserted: " + strings.Join(p.Loaded, " "))
}

func (in *Init) watchPowerButton() {
	ctx := context.Background()
	watching := map[string]bool{}
	deadline := time.Now().Add(ButtonSearch)
	for time.Now().Before(deadline) {
		for _, dev := range power.FindButtons("/sys/class/input", "/dev/input") {
			if watching[dev] {
				continue
			}
			if _, err := os.Stat(dev); err != nil {
				continue // node not there yet
			}
			watching[dev] = true
			in.log.Info("power button: watching " + dev)
			in.goSafe("power button "+dev, func() {
				err := power.WatchDevice(ctx, dev, func() {
					in.request(action{actPowerOff, "ACPI power button"})
				})
				if err != nil {
					in.log.Warn(err.Error())
				}
			})
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(watching) == 0 {
		in.log.Warn("power button: no input device named \"Power Button\" (modules button, evdev?): ACPI power-off will not work")
	}
}

func (in *Init) mountData() {
	f := sysinit.DefaultDiskFinder()
	node, err := f.Wait(DiskWait, 50*time.Millisecond, time.Now, time.Sleep)
	if err != nil {
		in.log.Debug("data disk scan: " + err.Error())
	}
	if node != "" {
		if err := sysinit.MountData(sysinit.SysMounter{}, node, sysinit.DataDir); err != nil {
			in.log.Error(err.Error())
		} else {
			in.dataMounted = true
			in.log.Info(fmt.Sprintf("data disk %s (label %s) mounted on %s", node, sysinit.DataLabel, sysinit.DataDir))
			return
		}
	}
	if err := os.MkdirAll(sysinit.DataDir, 0o755); err != nil {
		in.log.Error(err.Error())
	}
	in.log.Warn("!!! no usable ext4 disk labelled " + sysinit.DataLabel + ": " + sysinit.DataDir +
		" is on the RAM disk; configuration will NOT survive a reboot !!!")
}

func (in *Init) findSeed() {
	s, err := sysinit.FindSeed(sysinit.FwCfgSeed, sysinit.RunSeed, sysinit.DataDir)
	if err != nil {
		in.log.Error(err.Error())
	}
	in.seed = s
	if s.Path != "" {
		in.log.Info(fmt.Sprintf("seed config from %s: %s", s.Source, s.Path))
	} else {
		in.log.Debug("no seed config")
	}
}

func (in *Init) startServices() {
	shell := supervise.NewService(supervise.Spec{
		Name:       "rescue shell",
		Prepare:    in.shellLaunch,
		Backoff:    supervise.DefaultBackoff(),
		StopSignal: unix.SIGHUP,
		KillGroup:  true,
	}, in.reaper, nil, in.log)
	daemon := supervise.NewService(supervise.Spec{
		Name:      "lvsboxd",
		Prepare:   in.daemonLaunch,
		Backoff:   supervise.DefaultBackoff(),
		KillGroup: true,
		OnStart:   in.daemonStarted,
		OnExit:    in.daemonExited,
	}, in.reaper, nil, in.log)
	for _, s := range []service{{daemon, DaemonStopTimeout}, {shell, ShellStopTimeout}} {
		if !in.addService(s) {
			in.log.Info("shutting down: services not started")
			return
		}
		in.goSafe("service", func() { s.svc.Run(context.Background()) })
	}
}

func release() string {
	r, err := kmod.KernelRelease()
	if err != nil {
		return "?"
	}
	return r
}

// uptime is CLOCK_BOOTTIME: time since the kernel started.
func uptime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
