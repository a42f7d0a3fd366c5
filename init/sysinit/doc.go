// Package sysinit does PID 1's system setup steps: pseudo filesystems,
// hostname, loopback, the data disk (found by ext4 label), seed discovery,
// kernel knobs, and at the end unmounting and reboot(2).
//
// Pure parts (mountinfo parsing, ext4 superblock parsing, disk selection from
// a sysfs-like tree, seed lookup, command line parsing) take paths or readers
// so they are tested on fake trees and image files. The package must not
// start processes or decide policy beyond "what is there": the caller logs
// and carries on.
package sysinit
