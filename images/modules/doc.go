// Package modules computes a board's kernel module closure and stages it.
//
// For every board module it asks `modprobe --show-depends` (which includes
// softdeps) against the unpacked kernel, orders the result into the image's
// load lists, copies the .ko files (decompressing .ko.xz/.ko.zst/.ko.gz) with
// modules.order, modules.builtin and modules.builtin.modinfo into a staging
// tree and runs `depmod -b` there, so /lib/modules/RELEASE carries the text
// indexes (modules.dep, .alias, .softdep, .builtin, .order).
//
// It owns the closure rules. It must not download, and must not touch the
// host's /lib/modules or modprobe configuration (it passes -C /dev/null).
package modules
