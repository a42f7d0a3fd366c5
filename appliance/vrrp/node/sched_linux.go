package node

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SetRealtime puts every thread of the process under SCHED_RR at prio
// (1..99); threads the Go runtime starts later inherit it from their
// creator. Call it early, before the process starts much work: the VRRP
// timers then fire on time even when normal tasks keep every CPU busy
// (docs/vrrp.md has the measured difference). The kernel's RT throttling
// (sched_rt_runtime_us) still leaves 5% to everything else.
func SetRealtime(prio int) error {
	if prio < 1 || prio > 99 {
		return fmt.Errorf("vrrp: realtime priority %d, want 1..99", prio)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("vrrp: realtime: %w", err)
	}
	attr := unix.SchedAttr{Size: uint32(unsafe.Sizeof(unix.SchedAttr{})), Policy: unix.SCHED_RR, Priority: uint32(prio)}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
			return fmt.Errorf("vrrp: realtime: thread %d: %w", tid, err)
		}
	}
	return nil
}
