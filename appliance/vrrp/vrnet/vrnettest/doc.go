// Package vrnettest is an in-memory Ethernet segment for VRRP tests: Conns
// attached to a Segment receive each other's group messages (never their
// own) and unicast messages sent to their address, with TTL 255.
package vrnettest
