package config

import (
	"net/netip"
	"slices"
	"strings"
)

// validHostname accepts what sethostname(2) accepts and DNS tolerates: at most 64
// bytes of dot-separated labels of letters, digits and inner hyphens.
func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 64 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isAlnum(r) && r != '-' {
				return false
			}
		}
	}
	return true
}

// validDomain accepts a DNS name: like a host name, up to 253 bytes, '_' allowed in
// labels (SRV names), an optional trailing dot.
func validDomain(d string) bool {
	d = strings.TrimSuffix(d, ".")
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isAlnum(r) && r != '-' && r != '_' {
				return false
			}
		}
	}
	return true
}

// validHost accepts a host name or an IP address.
func validHost(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Zone() == "" && !a.IsUnspecified()
	}
	return validDomain(h)
}

// validIfName mirrors the kernel's dev_valid_name.
func validIfName(n string) bool {
	if len(n) == 0 || len(n) > 15 || n == "." || n == ".." {
		return false
	}
	return !strings.ContainsAny(n, "/: \t\n")
}

// validName is the rule for the names of services, instances, groups, users, tokens.
func validName(n string) bool {
	if len(n) == 0 || len(n) > 64 {
		return false
	}
	for _, r := range n {
		if !isAlnum(r) && r != '-' && r != '_' && r != '.' {
			return false
		}
	}
	return true
}

// validTimeZone checks the shape of an IANA zone name ("UTC", "Europe/Berlin",
// "America/Argentina/Buenos_Aires", "Etc/GMT+5"); whether the zone exists is the
// time zone database's business.
func validTimeZone(z string) bool {
	if len(z) == 0 || len(z) > 64 {
		return false
	}
	for part := range strings.SplitSeq(z, "/") {
		if part == "" || part == "." || part == ".." || !isLetter(rune(part[0])) {
			return false
		}
		for _, r := range part {
			if !isAlnum(r) && r != '_' && r != '-' && r != '+' {
				return false
			}
		}
	}
	return true
}

// validSysctlName checks a dotted sysctl name under one of the kernel's roots.
func validSysctlName(n string) bool {
	parts := strings.Split(n, ".")
	if len(parts) < 2 || !slices.Contains(sysctlRoots, parts[0]) {
		return false
	}
	for _, part := range parts {
		if part == "" {
			return false
		}
		for _, r := range part {
			if !isAlnum(r) && !strings.ContainsRune("_-/:", r) {
				return false
			}
		}
	}
	return true
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

func isAlnum(r rune) bool { return isLetter(r) || r >= '0' && r <= '9' }
