// Command lvsboxd is the lvsbox daemon: it opens the configuration store, imports the
// seed on first boot, runs the reconcile engine and serves the status API. It is
// started by PID 1 as `/bbin/lvsboxd --data /var/lib/lvsbox [--seed PATH] --http :80`
// and also runs as an ordinary process on a Linux host. See docs/daemon.md.
//
// main only wires packages together; it must not hold logic of its own.
package main
