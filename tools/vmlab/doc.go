// Package vmlab is the VM test lab: throwaway network namespaces holding one
// bridge per named segment, lvsbox guests run by QEMU (TCG) with virtio-net
// NICs on taps attached to those segments, and host namespaces (clients,
// real servers) joined to the segments by veth pairs.
//
// It owns: creating and destroying the lab namespace, its bridges and taps,
// host namespaces and their processes, QEMU processes, the serial console
// (buffered, matched by regular expression from a cursor, and a rescue-shell
// Run that frames command output with unique echo markers), the QMP monitor
// (system_powerdown) and saving console logs of failed tests under
// out/vmtest-logs/.
//
// It must not: touch anything outside the namespaces it created (no host
// bridges, no host routes, no /boot), leave processes, namespaces or taps
// behind (every Lab is closed by t.Cleanup, by CloseAll on SIGINT/SIGTERM,
// or by Sweep on the next run), or assert anything about lvsbox itself --
// the tests in tools/vmtest do that.
package vmlab
