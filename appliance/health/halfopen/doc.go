// Package halfopen probes TCP servers with a bare SYN: a SYN-ACK means a listener
// with room in its backlog answered (up), a RST means the port is closed
// (connection refused). The prober's kernel has no socket for the reply, so it
// resets the half-open connection itself; the server's application never sees a
// connection, and neither side allocates a full socket.
//
// It owns one raw IPPROTO_TCP socket per address family (opened on first use, with
// a BPF filter so only replies to its probes are queued), a block of local ports
// reserved by binding them (so no connect(2) on this host can pick them), the
// table of probes in flight, and the poll loop per family that reads replies
// (every millisecond while probes are in flight; the socket is kept out of Go's
// netpoller, see pollEvery) and fails probes past their timeout.
//
// It does not schedule, retry or judge: callers (the tcp checker) decide what a
// result means. It needs CAP_NET_RAW. It does not see ICMP errors: an unreachable
// host is a timeout.
package halfopen
