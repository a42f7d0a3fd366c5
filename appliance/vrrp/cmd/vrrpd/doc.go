// Command vrrpd runs VRRP instances from a JSON file with the lvsbox VRRP
// runtime (appliance/vrrp/node), for the host-netns tests and benchmarks
// until lvsboxd runs VRRP from its own config model. It serves its status,
// Prometheus metrics and priority deltas on an optional HTTP listener (a
// unix socket path or host:port), and on SIGTERM/SIGINT stops cleanly:
// masters send priority 0 and release their addresses.
//
//	vrrpd -config vrrp.json [-http unix:/run/vrrpd.sock] [-rt 50] [-log-level debug]
//
// It must not hold any state of its own beyond the file it was given.
package main
