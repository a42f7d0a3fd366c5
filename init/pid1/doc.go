// Package pid1 is lvsbox's init: it wires the other init packages into the
// boot sequence (mounts, logging, modules, hostname, loopback, data disk,
// seed), supervises the daemon and the rescue shell, handles signals and the
// power button, and powers the machine off cleanly.
//
// It owns ordering and policy (what is fatal: nothing; what is a warning).
// It must never return, never exit and never let a panic escape; it must not
// hold configuration or talk to IPVS (that is the daemon's job).
package pid1
