// Package rshelper writes the shell script a real server behind a DR or TUN service
// needs, per service, for copy-paste: the VIP on lo (DR) or on the tunnel device (TUN:
// tunl0 for IPv4, ip6tnl0 for IPv6), the ARP sysctls that stop the real server from
// answering for the VIP, and rp_filter for tunnels. The scripts are POSIX sh for a
// Linux real server with iproute2, idempotent (safe to run twice), and carry an undo
// section ("sh SCRIPT undo").
//
// It is pure text generation: it must not touch the system, and it knows nothing about
// the config format (callers map their model to Service) or the API.
package rshelper
