// Package board reads the board description baked into the image
// (/etc/lvsbox/board.json): hostname, console device and the kernel modules
// to load.
//
// It owns parsing and defaults only. It must not touch the system (no
// mounts, no module loading) and must never make PID 1 stop: a missing or
// broken file yields defaults plus an error for the caller to log.
package board
