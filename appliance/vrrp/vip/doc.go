// Package vip owns what a VRRP master holds on the host: the virtual
// addresses and virtual routes (added on becoming master, removed otherwise),
// the optional virtual MAC interface (a macvlan with 00:00:5e:00:01:VRID or
// 00:00:5e:00:02:VRID on the parent), and the announcements that move the
// neighbours' caches: gratuitous ARP for IPv4 and unsolicited neighbour
// advertisements (override flag) for IPv6, in a burst of Count rounds Spacing
// apart and refreshed every Refresh while master.
//
// A Worker per instance does all of it in its own goroutine, fed through a
// latest-wins mailbox (SetMaster, Announce), so the protocol goroutine never
// waits on netlink or packet sockets. The kernel side is behind the Kernel
// and Announcer interfaces (Linux: vishvananda/netlink, /proc/sys,
// mdlayher/packet and x/net/icmp); frame building and the add/remove plan are
// pure.
//
// It must not run the VRRP state machine, send VRRP adverts, or touch
// addresses other than the configured virtual addresses (and the link-local
// copy on a virtual MAC interface).
package vip
