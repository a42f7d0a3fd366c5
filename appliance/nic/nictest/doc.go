// Package nictest provides Fake, an in-memory nic.Kernel that behaves like a NIC:
// fixed features ignore change requests, refused features silently stay as they are,
// and every write is counted. It must not touch the real system.
package nictest
