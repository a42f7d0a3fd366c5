// Command hcserver is the health checker's test real server: it listens on one or
// many addresses and answers TCP connects (accept, close) or HTTP requests (200 "ok"
// on every path, 503 on /down), printing "ready" once every listener is bound. The
// host-netns test runs it in namespaces with `ip netns exec`; the benchmarks run it
// on loopback addresses so the listeners' CPU is not counted as the checker's.
//
// It is a test tool: it must not be shipped in the image.
package main
