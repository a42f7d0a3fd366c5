// Package vrlab is the VRRP host-netns lab: a "switch" network namespace with
// Linux bridges (forward_delay 0, STP off, no multicast snooping), node
// namespaces with veth links into them (fixed MACs, DAD off), processes
// (vrrpd, keepalived, tcpdump) started inside nodes, partitions (a port
// taken off its bridge, carrier kept) and link failures, the vrrpd status
// client, keepalived config generation, pcap reading and an ARP watcher for
// failover timing. The tests in this package and cmd/vrrpbench use it.
//
// Namespaces are named lvr-<pid>-<n>-<node>; Close kills every process it
// started and deletes every namespace, and Sweep removes those of dead test
// processes. It needs root, ip(8), and for some uses keepalived and tcpdump.
// It must not touch anything outside its namespaces.
package vrlab
