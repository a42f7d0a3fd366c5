// Package vrnet owns the VRRP sockets: one raw IP socket (protocol 112) per
// interface and address family, joined to 224.0.0.18 / ff02::12, sending with
// TTL / hop limit 255 from a chosen source address (IP_PKTINFO /
// IPV6_PKTINFO) to the group or to unicast peers, and receiving with the TTL,
// destination and interface of every message (control messages).
//
// Demux reads one socket, runs the instance-independent receive checks
// (vrrp.Decode), counts drops per reason and hands accepted messages to the
// instance registered for their VRID without ever blocking on it.
//
// It must not run the state machine, touch addresses or routes, or decide
// anything about instances beyond the VRID lookup.
package vrnet
