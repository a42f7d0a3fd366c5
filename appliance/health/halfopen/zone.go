package halfopen

import (
	"net"
	"strconv"
)

// netInterfaceIndex resolves an IPv6 zone: an interface name or a number.
func netInterfaceIndex(zone string) (int, error) {
	if n, err := strconv.Atoi(zone); err == nil {
		return n, nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, err
	}
	return ifi.Index, nil
}

// zoneName is the zone of interface index i as netip spells it for addresses
// parsed with an interface name (the name, else the number).
func zoneName(i uint32) string {
	if ifi, err := net.InterfaceByIndex(int(i)); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(int(i))
}
