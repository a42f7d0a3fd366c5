package sysinit

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Cmdline is the parsed kernel command line.
type Cmdline map[string]string

// ParseCmdline splits /proc/cmdline into key -> value ("" for flags).
// Double quotes group words.
func ParseCmdline(s string) Cmdline {
	c := Cmdline{}
	var fields []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			have = true
		case (r == ' ' || r == '\n' || r == '\t') && !inQuote:
			if have {
				fields = append(fields, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		fields = append(fields, cur.String())
	}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		c[k] = v
	}
	return c
}

// Has reports whether key is present.
func (c Cmdline) Has(key string) bool { _, ok := c[key]; return ok }

// ReadCmdline reads /proc/cmdline.
func ReadCmdline() Cmdline {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return Cmdline{}
	}
	return ParseCmdline(string(b))
}

// ConsoleLoglevel parses the first field of /proc/sys/kernel/printk.
func ConsoleLoglevel(printk string) (int, error) {
	f := strings.Fields(printk)
	if len(f) == 0 {
		return 0, fmt.Errorf("printk: empty")
	}
	return strconv.Atoi(f[0])
}

// ReadConsoleLoglevel reads the kernel's current console log level.
func ReadConsoleLoglevel() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/printk")
	if err != nil {
		return 0, err
	}
	return ConsoleLoglevel(string(b))
}

// AllowKmsgWrites turns off the /dev/kmsg write rate limit (printk_devkmsg=on)
// so PID 1's and the daemon's lines reach dmesg. It fails when the command
// line locked the setting.
func AllowKmsgWrites() error {
	return os.WriteFile("/proc/sys/kernel/printk_devkmsg", []byte("on\n"), 0o644)
}

// FixStdio makes sure fds 0, 1 and 2 are open (on the console when there is
// one), so that the Go runtime's own crash output goes somewhere.
func FixStdio(console string) {
	fd := -1
	for i := 0; i <= 2; i++ {
		var st unix.Stat_t
		if unix.Fstat(i, &st) == nil {
			continue
		}
		if fd < 0 {
			var err error
			fd, err = unix.Open(console, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
			if err != nil {
				fd, err = unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
				if err != nil {
					return
				}
			}
		}
		if fd != i {
			_ = unix.Dup3(fd, i, 0)
		} else {
			// Opened straight onto the missing fd: keep it, but not close-on-exec.
			_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
		}
	}
	if fd > 2 {
		unix.Close(fd)
	}
}
