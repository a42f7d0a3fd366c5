package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// Size is a benchmark table shape: Services virtual services with Reals real
// servers each.
type Size struct{ Services, Reals int }

func (s Size) String() string { return fmt.Sprintf("%dx%d", s.Services, s.Reals) }

// ParseSizes parses "1000x10,10000x4".
func ParseSizes(s string) ([]Size, error) {
	var out []Size
	for _, f := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(f), "x")
		n, err1 := strconv.Atoi(a)
		r, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n < 1 || r < 0 || n > 1<<20 || r > 1000 {
			return nil, fmt.Errorf("size %q: want SERVICESxREALS, e.g. 1000x10", f)
		}
		out = append(out, Size{n, r})
	}
	return out, nil
}

// addrFrom returns base + n as an IPv4 address.
func addrFrom(base netip.Addr, n int) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

var (
	benchVIPBase  = netip.MustParseAddr("10.64.0.0")
	benchRealBase = netip.MustParseAddr("172.16.0.0")
)

// Table is the benchmark's desired state for sz: TCP services 10.64.0.1:80,
// 10.64.0.2:80, ... (wlc), each with its own NAT real servers 172.16.x.y:8080
// (weight 1), all addresses distinct.
func Table(sz Size) []ipvs.ServiceState {
	out := make([]ipvs.ServiceState, sz.Services)
	for i := range out {
		out[i] = ipvs.ServiceState{Service: ipvs.Service{
			Key: ipvs.AddrKey(ipvs.TCP, addrFrom(benchVIPBase, i+1), 80), Scheduler: "wlc", Netmask: 32,
		}}
		out[i].Destinations = make([]ipvs.Destination, sz.Reals)
		for r := range sz.Reals {
			out[i].Destinations[r] = ipvs.Destination{
				Key:        ipvs.DestinationKey{Addr: addrFrom(benchRealBase, i*sz.Reals+r+1), Port: 8080},
				Forwarding: ipvs.NAT, Weight: 1,
			}
		}
	}
	return out
}

// Objects is the number of services plus destinations.
func Objects(states []ipvs.ServiceState) int {
	n := len(states)
	for _, s := range states {
		n += len(s.Destinations)
	}
	return n
}

// IpvsadmRules renders states in the format of `ipvsadm -S -n` (what `ipvsadm -R`
// reads): one -A line per service, one -a line per real server.
func IpvsadmRules(states []ipvs.ServiceState) (string, error) {
	var b strings.Builder
	for _, s := range states {
		svc, err := ipvsadmService(s.Key)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "-A %s -s %s", svc, s.Scheduler)
		if s.Flags&ipvs.FlagPersistent != 0 {
			fmt.Fprintf(&b, " -p %d", s.Timeout)
			if s.Key.Family == 4 {
				m := netip.PrefixFrom(netip.IPv4Unspecified(), int(s.Netmask))
				fmt.Fprintf(&b, " -M %s", maskString(m.Bits()))
			} else {
				fmt.Fprintf(&b, " -M %d", s.Netmask)
			}
		}
		if s.Flags&ipvs.FlagOnePacket != 0 {
			b.WriteString(" -o")
		}
		b.WriteByte('\n')
		for _, d := range s.Destinations {
			var fwd string
			switch d.Forwarding {
			case ipvs.NAT:
				fwd = "-m"
			case ipvs.DirectRoute:
				fwd = "-g"
			case ipvs.Tunnel:
				fwd = "-i"
			default:
				return "", fmt.Errorf("real server %s of %s: forwarding %s has no ipvsadm option", d.Key, s.Key, d.Forwarding)
			}
			fmt.Fprintf(&b, "-a %s -r %s %s -w %d", svc, hostPort(d.Key.Addr, d.Key.Port), fwd, d.Weight)
			if d.UpperThreshold != 0 || d.LowerThreshold != 0 {
				fmt.Fprintf(&b, " -x %d -y %d", d.UpperThreshold, d.LowerThreshold)
			}
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

func ipvsadmService(k ipvs.ServiceKey) (string, error) {
	if k.FWMark != 0 {
		if k.Family == 6 {
			return fmt.Sprintf("-f %d -6", k.FWMark), nil
		}
		return fmt.Sprintf("-f %d", k.FWMark), nil
	}
	opt := map[ipvs.Protocol]string{ipvs.TCP: "-t", ipvs.UDP: "-u", ipvs.SCTP: "--sctp-service"}[k.Protocol]
	if opt == "" {
		return "", fmt.Errorf("service %s: protocol has no ipvsadm option", k)
	}
	return opt + " " + hostPort(k.Addr, k.Port), nil
}

func hostPort(a netip.Addr, port uint16) string { return netip.AddrPortFrom(a, port).String() }

func maskString(bits int) string {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}
