package importer

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// ServiceName is the name an importer gives the service protocol+address+port:
// "tcp-192.0.2.1-80"; the colons of IPv6 addresses become '_'
// ("udp-2001_db8__53-53"), since names allow letters, digits, '-', '_' and '.'.
func ServiceName(proto config.Protocol, a netip.Addr, port int) string {
	return fmt.Sprintf("%s-%s-%d", proto, strings.ReplaceAll(a.WithZone("").String(), ":", "_"), port)
}

// FwmarkName is the name of the fwmark service mark/family: "fwmark-1",
// "fwmark-1-ipv6".
func FwmarkName(mark uint32, fam config.Family) string {
	if fam == config.FamilyIPv6 {
		return fmt.Sprintf("fwmark-%d-ipv6", mark)
	}
	return fmt.Sprintf("fwmark-%d", mark)
}

// Namer hands out unique names.
type Namer map[string]bool

// Unique returns base, or base-2, base-3, ... if base is taken, and marks the result
// as taken.
func (n Namer) Unique(base string) string {
	name := base
	for i := 2; n[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	n[name] = true
	return name
}

// SafeName turns s into a valid object name (1-64 of letters, digits, '-', '_' and
// '.'): other characters become '-', the result is cut to 64 bytes, and an empty
// result becomes "unnamed". It reports whether it changed anything.
func SafeName(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > 64 {
		out = out[:64]
	}
	if out == "" {
		out = "unnamed"
	}
	return out, out != s
}
