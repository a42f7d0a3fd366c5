// Package kmod loads Linux kernel modules the way modprobe does, for a PID 1
// without modprobe: it reads modules.dep, modules.alias, modules.softdep,
// modules.builtin (and modules.builtin.modinfo when present) under
// /lib/modules/$(uname -r), resolves names and aliases, orders hard
// dependencies and soft dependencies (pre: and post:), and coldplugs devices
// by matching sysfs modalias strings against modules.alias.
//
// It exists because u-root's pkg/kmodule resolves modules.dep by file name
// only (no aliases, no softdeps, so ip_vs fails: libcrc32c needs the crc32c
// alias loaded first).
//
// The parsing, resolution and load ordering are pure and go through the
// Loader interface; FinitLoader is the only part that makes syscalls. The
// package must not decide policy (which modules a board needs, what counts as
// fatal): it reports errors and the caller logs them.
package kmod
