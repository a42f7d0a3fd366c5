// Package ipvs owns lvsbox's view of kernel IPVS: our own types for virtual services
// and destinations (with stats), a small Kernel interface (plus the optional Batcher,
// ServiceReader and Globals), a pure Diff from desired to observed state that yields
// the minimal ordered list of kernel operations, and a Reconciler that observes,
// diffs and applies (in two pipelined batches when the Kernel can batch), counting
// kernel writes and reporting per-object errors.
//
// The only real Kernel is Netlink, on lvsbox's own generic netlink client
// (subpackage ipvsnl). This package owns every IPVS service on the box: services
// that are not desired are deleted. It must never flush the table, delete and
// re-add an object to edit it, or know about the config format.
package ipvs
