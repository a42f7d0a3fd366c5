// Package sysctl owns the kernel settings lvsbox computes for a director: Desired is a
// pure function from the services in use (forwarding modes, schedulers, VIPs), the
// interfaces, the IPVS options and the user's overrides to the wanted sysctls, each
// with the reason it is set (shown in status and in docs/tuning.md). Reconciler applies
// them through the small FS interface (ProcSys: /proc/sys or any root directory):
// read, write only what differs, read back, and report per key what was changed and
// which changes repaired drift.
//
// A key the kernel lacks (net.ipv4.vs.* without ip_vs, an interface that is gone) is a
// per-key error and never stops the pass; an override naming a key that does not exist
// is an error naming it. Keys it stops computing keep their last value (it never
// switches forwarding off by itself; the IPVS keys are always computed, so they follow
// the config both ways). It knows nothing about the config format.
package sysctl
