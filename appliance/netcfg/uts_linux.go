package netcfg

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// KernelUTS is the UTS backed by uname(2) and sethostname(2).
type KernelUTS struct{}

// Hostname returns the kernel host name.
func (KernelUTS) Hostname() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("netcfg: uname: %w", err)
	}
	return unix.ByteSliceToString(u.Nodename[:]), nil
}

// SetHostname sets the kernel host name.
func (KernelUTS) SetHostname(name string) error {
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("netcfg: sethostname %s: %w", name, err)
	}
	return nil
}
