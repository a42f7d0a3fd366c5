// Package netcfg owns the host side of the network that lvsbox configures: the host
// name, links being up, interface addresses and static gateway routes (sysctls,
// ip_forward included, belong to appliance/sysctl). It plans purely (Plan: desired +
// observed + what lvsbox added earlier -> ordered ops) and applies through small
// interfaces (Host, UTS) whose real implementations use vishvananda/netlink and
// sethostname(2).
//
// It must never remove an address or route it did not add itself: what it added is
// remembered in a small JSON ledger under the run directory. It never takes a link
// down, and it knows nothing about IPVS or the config format.
package netcfg
