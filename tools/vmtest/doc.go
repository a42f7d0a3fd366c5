// Package vmtest holds the VM tests of lvsbox: they boot the built image
// (out/qemu-x86_64) under QEMU/TCG in a tools/vmlab lab and check it from the
// outside -- console, rescue shell, kernel IPVS, traffic from client
// namespaces to real-server namespaces, power-off.
//
// The tests need root, QEMU and the image; without them they skip (fail
// under LVSBOX_REQUIRE_ALL=1). See docs/testing.md.
//
// It owns only tests; it must not change the image, PID 1 or the daemon to
// make a test pass.
package vmtest
