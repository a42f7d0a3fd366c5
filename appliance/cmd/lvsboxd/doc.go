// Command lvsboxd is the lvsbox daemon: it opens the configuration store, imports the
// seed on first boot, rolls back unconfirmed commit-confirmed changes, runs the
// reconcile engine and serves the API (root-only Unix socket, HTTPS with users from
// the configuration, plain-HTTP status). It is started by PID 1 as
// `/bbin/lvsboxd --data /var/lib/lvsbox [--seed PATH] --http :80` and also runs as an
// ordinary process on a Linux host. See docs/daemon.md and docs/api.md.
//
// main only wires packages together (storeapi.go adapts the store to the API); it
// must not hold logic of its own.
package main
