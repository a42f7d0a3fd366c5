package pid1

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvsbox/lvsbox/init/klog"
	"github.com/lvsbox/lvsbox/init/sysinit"
)

// shutdown stops everything and powers off or reboots. Every step recovers
// its own panic so the final reboot(2) is always reached; if reboot(2) fails
// PID 1 logs it and idles forever.
func (in *Init) shutdown(a action) {
	in.mu.Lock()
	if in.shuttingDown {
		in.mu.Unlock()
		in.log.Info(fmt.Sprintf("%s: already shutting down", a.reason))
		return
	}
	in.shuttingDown = true
	services := append([]service(nil), in.services...)
	in.mu.Unlock()

	t := time.Now()
	in.log.Info(fmt.Sprintf("%s requested by %s: stopping services", a.mode(), a.reason))
	in.runStep("stop services", func() {
		var wg sync.WaitGroup
		for _, s := range services {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer klog.Recover(in.log, "stop service")
				s.svc.Stop(s.stopTimeout)
			}()
		}
		wg.Wait()
	}, false)
	in.runStep("kill remaining", func() {
		if in.reaper.WaitNoChildren(0) {
			return
		}
		_ = unix.Kill(-1, unix.SIGTERM)
		if in.reaper.WaitNoChildren(time.Second) {
			return
		}
		in.log.Warn("processes left after SIGTERM: sending SIGKILL")
		_ = unix.Kill(-1, unix.SIGKILL)
		in.reaper.WaitNoChildren(time.Second)
	}, false)
	in.runStep("unmount", func() {
		sysinit.Sync()
		ms, err := sysinit.LiveMounts()
		if err != nil {
			in.log.Error("read mounts: " + err.Error())
			return
		}
		for _, m := range sysinit.UnmountOrder(ms, sysinit.DataDir) {
			if err := sysinit.Unmount(m); err != nil {
				in.log.Warn(err.Error())
			}
		}
	}, false)
	in.log.Info(fmt.Sprintf("%s after %s of shutdown", a.mode(), dur(time.Since(t))))
	in.logger.Flush(500 * time.Millisecond)
	err := sysinit.Reboot(a.mode())
	in.log.Error(fmt.Sprintf("reboot(2) %s failed: %v; idling", a.mode(), err))
	in.logger.Flush(500 * time.Millisecond)
	idle()
}
