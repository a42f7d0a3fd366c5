package sysinit

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// pseudoFS are filesystems with nothing to flush; they stay mounted at
// power-off.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "rootfs": true,
	"securityfs": true, "debugfs": true, "tracefs": true, "cgroup2": true, "bpf": true,
}

// UnmountOrder returns the mount points to unmount at shutdown: everything
// but "/" and pseudo filesystems, deepest first, with first (the data disk)
// ahead of the rest when present.
func UnmountOrder(ms []MountInfo, first string) []string {
	var rest []string
	hasFirst := false
	for _, m := range ms {
		if m.Target == "/" || pseudoFS[m.FSType] {
			continue
		}
		if m.Target == first {
			hasFirst = true
			continue
		}
		rest = append(rest, m.Target)
	}
	// Later mounts first, and children before parents.
	for i, j := 0, len(rest)-1; i < j; i, j = i+1, j-1 {
		rest[i], rest[j] = rest[j], rest[i]
	}
	sort.SliceStable(rest, func(i, j int) bool {
		return strings.Count(rest[i], "/") > strings.Count(rest[j], "/")
	})
	if hasFirst {
		return append([]string{first}, rest...)
	}
	return rest
}

// Unmount unmounts target; when it is busy it remounts it read-only so the
// filesystem is clean anyway.
func Unmount(target string) error {
	err := unix.Unmount(target, 0)
	if err == nil || errors.Is(err, unix.EINVAL) { // EINVAL: not mounted
		return nil
	}
	if rerr := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); rerr != nil {
		return fmt.Errorf("unmount %s: %w (remount read-only: %v)", target, err, rerr)
	}
	return fmt.Errorf("unmount %s: %w (remounted read-only)", target, err)
}

// Sync flushes all filesystems.
func Sync() { unix.Sync() }

// RebootMode says how the machine ends.
type RebootMode int

// Reboot modes.
const (
	PowerOff RebootMode = iota
	Restart
)

func (m RebootMode) String() string {
	if m == Restart {
		return "reboot"
	}
	return "power off"
}

// Reboot syncs and calls reboot(2). It only returns on error.
func Reboot(m RebootMode) error {
	unix.Sync()
	cmd := unix.LINUX_REBOOT_CMD_POWER_OFF
	if m == Restart {
		cmd = unix.LINUX_REBOOT_CMD_RESTART
	}
	return unix.Reboot(cmd)
}

// DisableCtrlAltDel makes the kernel send SIGINT to PID 1 on Ctrl-Alt-Del
// instead of rebooting at once.
func DisableCtrlAltDel() error {
	return unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)
}
