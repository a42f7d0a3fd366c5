// Package ipvsnl is lvsbox's client for the kernel's IPVS generic netlink family
// ("IPVS", include/uapi/linux/ip_vs.h). github.com/mdlayher/netlink opens the
// socket (in any network namespace) and github.com/mdlayher/genetlink resolves the
// family; requests and replies then go straight over the socket's descriptor, one
// syscall per datagram (see docs/ipvs.md).
//
// It owns the wire format: the uapi constants (written here, not imported), the
// pure encoding of requests and decoding of replies, dumps of services and their
// destinations, timeouts (GET/SET_CONFIG), sync daemons (NEW/DEL/GET_DAEMON),
// GET_INFO, and the pipelined batch writer Apply, which sends a window of requests
// in one sendmsg and matches the kernel's answers to them by sequence number, so
// that one failed object never aborts the rest.
//
// Its types are the kernel's, not lvsbox's (package ipvs maps between the two). It
// must not hold policy: no diffing, no retries, no decisions about what to write.
package ipvsnl
