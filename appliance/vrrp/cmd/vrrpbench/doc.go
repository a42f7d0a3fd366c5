// Command vrrpbench measures lvsbox VRRP beside keepalived in throwaway
// network namespaces (appliance/vrrp/vrlab): failover time after kill -9 of
// the master and takeover time after a clean stop, both from the signal to
// the first gratuitous ARP for the VIP from the new master seen by a client
// (kernel capture timestamps), for several advert intervals; and advert
// jitter plus spurious transitions at 50 ms adverts, idle and under a CPU
// hog that keeps every core busy. It prints Markdown tables. Figures, not
// pass/fail. Needs root, ip, tcpdump, keepalived and go.
//
//	vrrpbench [-runs 5] [-intervals 1s,100ms,30ms] [-jitter 60s] [-hog 120s] [-rt 0] [-ka-rt 0]
//	vrrpbench hog -n 2 -d 60s        (the CPU hog it starts itself)
//
// It must not touch anything outside its namespaces.
package main
