// Command ipvsbench exercises and benchmarks kernel IPVS through lvsbox's own
// client (appliance/ipvs, appliance/ipvs/ipvsnl). It is a test tool: the VM tests
// put it into a guest through an extra initramfs (tools/vmlab.ExtraInitramfs); it
// is not part of the image.
//
//	ipvsbench [-hostns] info                 IPVS version and connection table size
//	ipvsbench [-hostns] exercise             every feature against the kernel, one CHECK line each
//	ipvsbench [-hostns] bench [flags]        lvsbox vs ipvsadm -R, printed as a table
//	ipvsbench bench-phase [flags]            one phase of bench (bench runs it itself)
//
// By default it re-executes itself in a new, private network namespace, so that it
// neither disturbs nor is disturbed by lvsboxd (which owns the IPVS table of the
// main namespace); -hostns runs in the caller's namespace instead. bench runs each of
// its phases in a fresh namespace of its own (see bench.go).
//
// It owns the benchmark's table shapes, the ipvsadm rules it compares against and
// the exercise's checks; it must not be imported, and must not touch IPVS outside
// its private namespace unless told to with -hostns.
package main
