// Package ipvsadm imports IPVS rules written for ipvsadm: the output of
// `ipvsadm -S` / `ipvsadm -Sn` (the format of /etc/sysconfig/ipvsadm and of
// `ipvsadm -R` input), and scripts of ipvsadm commands (lines may start with
// "ipvsadm", a path ending in /ipvsadm, or "sudo"). Commands are applied in order
// (-A, -E, -D, -a, -e, -d, -C, --set, --start-daemon), so a script that adds,
// edits and deletes rules imports as the table it leaves behind.
//
// It must not resolve anything: service names of ports (http, https, ssh, ...)
// come from a small built-in table, and host names (what `ipvsadm -S` prints
// without -n) are reported as errors with their line numbers. Every option that
// cannot be mapped is reported as a note (appliance/importer), never dropped
// silently.
package ipvsadm
