// Command lvsinit is lvsbox's PID 1 (/init in the image, a command of the
// busybox-mode binary). All of its work is in package pid1; this command only
// refuses to run anywhere but as process 1, so starting it by mistake on a
// development host does nothing.
package main

import (
	"fmt"
	"os"

	"github.com/lvsbox/lvsbox/init/pid1"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lvsinit:", err)
		os.Exit(1)
	}
}

func run() error {
	if pid := os.Getpid(); pid != 1 {
		return fmt.Errorf("refusing to run as pid %d: lvsinit is the init of the lvsbox image "+
			"(it mounts filesystems, loads kernel modules and powers the machine off) and only runs as process 1", pid)
	}
	pid1.Run() // never returns
	return nil
}
