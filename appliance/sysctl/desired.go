package sysctl

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Forwarding is how IPVS hands packets to a real server.
type Forwarding string

// Forwarding methods.
const (
	NAT Forwarding = "nat"
	DR  Forwarding = "dr"
	TUN Forwarding = "tun"
)

// Service is a virtual service in use.
type Service struct {
	Name string
	// VIP is the service address; invalid (zero) for a firewall-mark service.
	VIP netip.Addr
	// IPv6 says the family of a firewall-mark service (ignored when VIP is set).
	IPv6 bool
	// Protocol is tcp, udp or sctp; "" for a firewall-mark service (any protocol).
	Protocol   string
	Scheduler  string
	Forwarding Forwarding
	// RealServers; one without its own Forwarding uses the service's.
	RealServers []RealServer
}

// RealServer is a real server of a Service.
type RealServer struct {
	Address    netip.Addr
	Forwarding Forwarding
}

// Interface is a director interface and its addresses (including virtual addresses
// VRRP may add).
type Interface struct {
	Name      string
	Addresses []netip.Prefix
}

// IPVS holds the kernel-wide IPVS options that sysctls depend on.
type IPVS struct {
	// Conntrack: netfilter rules (stateful firewall, SNAT/MASQUERADE of IPVS traffic)
	// must see IPVS connections.
	Conntrack bool
	// SyncDaemon: the connection-sync daemons run (master and backup on every node).
	SyncDaemon bool
}

// Input is everything the computed sysctls depend on.
type Input struct {
	Services   []Service
	Interfaces []Interface
	IPVS       IPVS
	// Overrides, key to value, win over computed values.
	Overrides map[string]string
}

// Source says where a setting comes from.
type Source string

// Sources.
const (
	Computed Source = "lvsbox"
	Override Source = "override"
)

// Setting is one wanted sysctl.
type Setting struct {
	Key    string
	Value  string
	Reason string
	Source Source
}

// Sysctl keys lvsbox computes.
const (
	KeyIPv4Forward               = "net.ipv4.ip_forward"
	KeyIPv6Forward               = "net.ipv6.conf.all.forwarding"
	KeyVSConntrack               = "net.ipv4.vs.conntrack"
	KeyVSExpireNodestConn        = "net.ipv4.vs.expire_nodest_conn"
	KeyVSExpireQuiescentTemplate = "net.ipv4.vs.expire_quiescent_template"
	KeyVSConnReuseMode           = "net.ipv4.vs.conn_reuse_mode"
	KeyVSSloppyTCP               = "net.ipv4.vs.sloppy_tcp"
	KeyVSSloppySCTP              = "net.ipv4.vs.sloppy_sctp"
	KeyVSBackupOnly              = "net.ipv4.vs.backup_only"
	neighKeyFmt                  = "net.%s.neigh.default.gc_thresh%d"
	defaultGCThresh1             = 128
	vsKeyPrefix                  = "net.ipv4.vs."
	maxNamesInReason             = 3
	neighbourHeadroomPerServer   = 2
)

// modes summarises the services: which real servers use which forwarding, per family.
type modes struct {
	nat4, nat6, drTun, mhTCP, mhSCTP []string // service names
	reals4, reals6                   map[netip.Addr]bool
	vipIfaces                        map[string][]string // interface -> services with an IPv4 VIP on it
	ipv6                             bool
}

func summarise(in Input) modes {
	m := modes{reals4: map[netip.Addr]bool{}, reals6: map[netip.Addr]bool{}, vipIfaces: map[string][]string{}}
	for _, s := range in.Services {
		v6 := s.IPv6
		if s.VIP.IsValid() {
			v6 = s.VIP.Unmap().Is6()
		}
		m.ipv6 = m.ipv6 || v6
		var nat, drTun bool
		for _, r := range s.RealServers {
			f := cmp.Or(r.Forwarding, s.Forwarding)
			a := r.Address.Unmap()
			switch {
			case f == NAT && a.Is6():
				m.nat6 = appendOnce(m.nat6, s.Name)
			case f == NAT:
				m.nat4 = appendOnce(m.nat4, s.Name)
			}
			nat = nat || f == NAT
			drTun = drTun || f == DR || f == TUN
			if a.Is6() {
				m.reals6[a] = true
				m.ipv6 = true
			} else if a.IsValid() {
				m.reals4[a] = true
			}
		}
		if len(s.RealServers) == 0 {
			drTun = s.Forwarding == DR || s.Forwarding == TUN
		}
		if drTun {
			m.drTun = appendOnce(m.drTun, s.Name)
		}
		if s.Scheduler == "mh" {
			switch s.Protocol {
			case "tcp", "":
				m.mhTCP = appendOnce(m.mhTCP, s.Name)
			}
			switch s.Protocol {
			case "sctp", "":
				m.mhSCTP = appendOnce(m.mhSCTP, s.Name)
			}
		}
		if vip := s.VIP.Unmap(); vip.Is4() {
			for _, ifc := range in.Interfaces {
				for _, p := range ifc.Addresses {
					if p.Contains(vip) {
						m.vipIfaces[ifc.Name] = appendOnce(m.vipIfaces[ifc.Name], s.Name)
						break
					}
				}
			}
		}
	}
	return m
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// names renders service names for a reason: "web, api" or "a, b, c and 4 more".
func names(list []string) string {
	l := slices.Sorted(slices.Values(list))
	if len(l) > maxNamesInReason {
		return fmt.Sprintf("%s and %d more", strings.Join(l[:maxNamesInReason], ", "), len(l)-maxNamesInReason)
	}
	return strings.Join(l, ", ")
}

// Desired computes the wanted sysctls, ordered for writing (global keys, then "all",
// "default", then per interface). The error names every bad override (bad key syntax
// or value); existence under /proc/sys is checked by the Reconciler and CheckOverrides.
func Desired(in Input) ([]Setting, error) {
	m := summarise(in)
	out := map[string]Setting{}
	set := func(key, value, reason string) {
		out[key] = Setting{Key: key, Value: value, Reason: reason, Source: Computed}
	}

	if len(m.nat4) > 0 {
		set(KeyIPv4Forward, "1", "NAT services ("+names(m.nat4)+"): real servers' replies are routed through the director, where IPVS rewrites them; without forwarding they are dropped")
	}
	if len(m.nat6) > 0 {
		set(KeyIPv6Forward, "1", "IPv6 NAT services ("+names(m.nat6)+"): real servers' replies are routed through the director; note that with forwarding on, router advertisements are only accepted where accept_ra=2")
	}

	for _, ifname := range slices.Sorted(maps.Keys(m.vipIfaces)) {
		svcs := names(m.vipIfaces[ifname])
		set(ConfKey("ipv4", ifname, "rp_filter"), "2", "receives VIP traffic ("+svcs+"): loose reverse-path filtering; strict (1) silently drops clients whose return route leaves by another interface (asymmetric routing, a VIP moved here by VRRP), loose still drops unroutable sources")
		set(ConfKey("ipv4", ifname, "arp_ignore"), "1", "carries VIPs ("+svcs+"): answer ARP only for addresses configured on this interface, so no other interface of the director answers for a VIP (ARP flux)")
		set(ConfKey("ipv4", ifname, "arp_announce"), "2", "carries VIPs ("+svcs+"): ARP requests use this interface's own address as sender, never a VIP held elsewhere, so neighbours never learn a wrong MAC for a VIP")
		set(ConfKey("ipv4", ifname, "arp_notify"), "1", "carries VIPs ("+svcs+"): send gratuitous ARP when the link comes up or its MAC changes (bond failover), so switches and neighbours relearn the director at once")
	}

	if in.IPVS.Conntrack {
		set(KeyVSConntrack, "1", "netfilter rules must see IPVS connections (stateful firewall or SNAT of IPVS traffic): keep conntrack entries for them")
	} else {
		set(KeyVSConntrack, "0", "no netfilter rule needs IPVS connections in conntrack: skipping the conntrack entry per connection saves memory and CPU (kernel default)")
	}
	set(KeyVSExpireNodestConn, "1", "when a real server is removed, drop its connection entries at the next packet instead of blackholing the client until the entry times out; the client retries and is scheduled to a live server")
	set(KeyVSExpireQuiescentTemplate, "1", "persistence templates of a real server with weight 0 (drained or failed) expire, so returning persistent clients are scheduled to a live server")
	if len(m.drTun) > 0 {
		set(KeyVSConnReuseMode, "2", "DR/TUN services ("+names(m.drTun)+"): a new connection reusing a client port is rescheduled when the old one is in TIME_WAIT, or in FIN_WAIT (the last state a DR/TUN director sees); 0 would pin reused ports to the old server and disable expire_nodest_conn")
	} else {
		set(KeyVSConnReuseMode, "1", "a new connection reusing a client port is rescheduled when the old one is in TIME_WAIT (kernel default); 0 would pin reused ports to the old server and disable expire_nodest_conn")
	}
	if len(m.mhTCP) > 0 {
		set(KeyVSSloppyTCP, "1", "maglev-hash services ("+names(m.mhTCP)+"): create connection state on any TCP packet, not only SYN, so after a director failover established connections are hashed to the same real server and survive")
	} else {
		set(KeyVSSloppyTCP, "0", "no maglev-hash TCP service: create connection state only on SYN (kernel default)")
	}
	if len(m.mhSCTP) > 0 {
		set(KeyVSSloppySCTP, "1", "maglev-hash services ("+names(m.mhSCTP)+"): create connection state on any SCTP packet, not only INIT, so established associations survive a director failover")
	} else {
		set(KeyVSSloppySCTP, "0", "no maglev-hash SCTP service: create connection state only on INIT (kernel default)")
	}
	if in.IPVS.SyncDaemon {
		set(KeyVSBackupOnly, "0", "the sync daemon runs both master and backup on every node; backup_only=1 would stop the active director from forwarding while its backup daemon runs")
	} else {
		set(KeyVSBackupOnly, "0", "the director forwards whether or not a backup sync daemon runs (kernel default)")
	}

	gcThresh(set, "ipv4", len(m.reals4))
	if m.ipv6 {
		gcThresh(set, "ipv6", len(m.reals6))
	}

	var errs []error
	for _, key := range slices.Sorted(maps.Keys(in.Overrides)) {
		v := in.Overrides[key]
		if err := ValidKey(key); err != nil {
			errs = append(errs, fmt.Errorf("override: %w", err))
			continue
		}
		if err := validValue(key, v); err != nil {
			errs = append(errs, fmt.Errorf("override: %w", err))
			continue
		}
		reason := "user override"
		if c, ok := out[key]; ok {
			reason = fmt.Sprintf("user override (lvsbox would set %s: %s)", c.Value, c.Reason)
		}
		out[key] = Setting{Key: key, Value: strings.TrimSpace(v), Reason: reason, Source: Override}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sortSettings(slices.Collect(maps.Values(out))), nil
}

// gcThresh sizes the neighbour table: gc_thresh1 (no garbage collection below it) at
// least twice the real servers, rounded up to a power of two and never below the
// kernel default 128; gc_thresh2 and 3 keep the kernel's 1:4:8 proportions.
func gcThresh(set func(key, value, reason string), family string, reals int) {
	t1 := max(defaultGCThresh1, pow2ceil(neighbourHeadroomPerServer*reals))
	why := fmt.Sprintf("%d %s real servers", reals, family)
	set(fmt.Sprintf(neighKeyFmt, family, 1), strconv.Itoa(t1), why+": below this many neighbour entries none is garbage-collected; at least twice the real servers, so their entries (needed for every forwarded packet) stay resolved")
	set(fmt.Sprintf(neighKeyFmt, family, 2), strconv.Itoa(4*t1), why+": soft limit, 4 × gc_thresh1 (kernel proportions)")
	set(fmt.Sprintf(neighKeyFmt, family, 3), strconv.Itoa(8*t1), why+": hard limit, 8 × gc_thresh1; above it new neighbours fail ('neighbour table overflow')")
}

func pow2ceil(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

func sortSettings(s []Setting) []Setting {
	slices.SortFunc(s, func(a, b Setting) int {
		return cmp.Or(cmp.Compare(rank(a.Key), rank(b.Key)), strings.Compare(a.Key, b.Key))
	})
	return s
}
