// Package ipvstest provides Fake, an in-memory ipvs.Kernel with the kernel's
// EEXIST/ESRCH/ENOENT semantics, write counting, fault injection and an "unavailable"
// switch, for tests of the ipvs package and its users.
//
// It must not be imported by production code.
package ipvstest
