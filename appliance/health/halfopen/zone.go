package halfopen

import (
	"net"
	"strconv"
)

// zoneID resolves an IPv6 zone (an interface name or index) to an interface
// index; 0 when there is no such interface.
func zoneID(zone string) uint32 {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}

// zoneName is the zone of interface index i as netip spells it for addresses
// parsed with an interface name (the name, else the number).
func zoneName(i uint32) string {
	if ifi, err := net.InterfaceByIndex(int(i)); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(int(i))
}
