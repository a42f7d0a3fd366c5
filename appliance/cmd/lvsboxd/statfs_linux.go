package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// volatileFS reports the filesystem of dir when it is one that does not persist.
func volatileFS(dir string) (fsType string, volatile bool, err error) {
	var s unix.Statfs_t
	if err := unix.Statfs(dir, &s); err != nil {
		return "", false, fmt.Errorf("statfs %s: %w", dir, err)
	}
	switch uint32(s.Type) {
	case unix.TMPFS_MAGIC:
		return "tmpfs", true, nil
	case unix.RAMFS_MAGIC:
		return "ramfs", true, nil
	}
	return fmt.Sprintf("%#x", s.Type), false, nil
}
