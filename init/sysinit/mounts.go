package sysinit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Mount is one filesystem to mount.
type Mount struct {
	Source, Target, FSType string
	Flags                  uintptr
	Data                   string
	Mode                   os.FileMode // of the target directory when created
}

// BaseMounts are the pseudo and scratch filesystems PID 1 sets up, in order.
func BaseMounts() []Mount {
	const nsd = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	return []Mount{
		{"proc", "/proc", "proc", nsd, "", 0o555},
		{"sysfs", "/sys", "sysfs", nsd, "", 0o555},
		{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755", 0o755},
		{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "mode=0620,ptmxmode=0666", 0o755},
		{"tmpfs", "/dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777", 0o1777},
		{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755", 0o755},
		{"tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=1777", 0o1777},
	}
}

// MountPoints parses /proc/self/mountinfo and returns mount points in mount
// order (field 5, with octal escapes decoded).
func MountPoints(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		out = append(out, unescape(f[4]))
	}
	return out, sc.Err()
}

// MountInfo is one /proc/self/mountinfo entry.
type MountInfo struct {
	Target, FSType, Source string
}

// ParseMountInfo returns mount entries in mount order.
func ParseMountInfo(r io.Reader) ([]MountInfo, error) {
	var out []MountInfo
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+2 >= len(f) {
			continue
		}
		out = append(out, MountInfo{Target: unescape(f[4]), FSType: f[sep+1], Source: unescape(f[sep+2])})
	}
	return out, sc.Err()
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Mounter does mount(2); a fake in tests.
type Mounter interface {
	Mount(source, target, fstype string, flags uintptr, data string) error
}

// SysMounter is the real mount(2).
type SysMounter struct{}

// Mount implements Mounter.
func (SysMounter) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}

// MountAll mounts ms in order, skipping targets already mounted. mounted
// returns the current mount points (it is called again after /proc is
// mounted). Failures are collected; later mounts are still tried.
func MountAll(m Mounter, ms []Mount, mounted func() []string) (done []string, err error) {
	var errs []error
	have := map[string]bool{}
	refresh := func() {
		for _, p := range mounted() {
			have[p] = true
		}
	}
	refresh()
	for _, mt := range ms {
		if have[mt.Target] {
			continue
		}
		if err := os.MkdirAll(mt.Target, mt.Mode|0o700); err != nil {
			errs = append(errs, fmt.Errorf("mount %s: mkdir: %w", mt.Target, err))
			continue
		}
		err := m.Mount(mt.Source, mt.Target, mt.FSType, mt.Flags, mt.Data)
		if errors.Is(err, unix.EBUSY) {
			continue // raced with something that mounted it: fine
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("mount %s (%s): %w", mt.Target, mt.FSType, err))
			continue
		}
		done = append(done, mt.Target)
		have[mt.Target] = true
		if mt.FSType == "proc" {
			refresh()
		}
	}
	return done, errors.Join(errs...)
}

// LiveMountPoints reads /proc/self/mountinfo; nil when /proc is not mounted.
func LiveMountPoints() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	mp, _ := MountPoints(f)
	return mp
}

// LiveMounts reads /proc/self/mountinfo entries.
func LiveMounts() ([]MountInfo, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseMountInfo(f)
}
