// Command labsrv is the VM lab's tiny network helper, run inside host
// namespaces (real servers and clients) by tools/vmtest:
//
//	labsrv serve -name rs1 [-listen :80]        HTTP server answering "rs1\n"
//	labsrv get [-n 40] [-interval 0] URL         n requests, each on a new
//	                                             connection; -n 0 loops until
//	                                             SIGTERM/SIGINT
//	labsrv hold [-n 0] [-interval 200ms] URL     n requests over ONE kept-alive
//	                                             connection, never reconnecting;
//	                                             -n 0 loops until SIGTERM/SIGINT
//	labsrv ping [-c 3] [-timeout 2s] ADDR        ICMP echo (raw socket, root)
//
// get and hold print one line per request ("ok <body>" or "err <error>") and a
// final "summary ok=N err=M" line; they exit 1 if any request failed (hold stops
// at the first failure and prints "conn LOCAL->REMOTE" first).
//
// It owns nothing but its own sockets; it must not be shipped in the image.
package main
