// Package ipvstest provides Fake, an in-memory ipvs.Kernel (also a ServiceReader and
// Globals: timeouts, sync daemons) with the kernel's EEXIST/ESRCH/ENOENT semantics,
// write counting, fault injection and an "unavailable" switch, and Batching, a Fake
// that is an ipvs.Batcher, for tests of the ipvs package and its users.
//
// It must not be imported by production code.
package ipvstest
