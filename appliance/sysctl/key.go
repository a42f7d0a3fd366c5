package sysctl

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Keys are dotted, as sysctl(8) writes them: net.ipv4.ip_forward. A '/' inside a
// component stands for a '.' in the name, also as in sysctl(8), so the VLAN interface
// eth0.100 is net.ipv4.conf.eth0/100.rp_filter (/proc/sys/net/ipv4/conf/eth0.100/rp_filter).

// Path returns the key's path relative to /proc/sys, e.g. "net/ipv4/conf/eth0.100/rp_filter".
func Path(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	return swapDotSlash(key), nil
}

// ValidKey checks a key's syntax (not whether the kernel has it).
func ValidKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("sysctl %q: bad key: %s", key, why) }
	if key == "" {
		return errors.New("sysctl: empty key")
	}
	if len(key) > 256 {
		return bad("longer than 256 bytes")
	}
	for _, r := range key {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) || r == '=' {
			return bad("spaces, '=' and control characters are not allowed")
		}
	}
	for _, c := range strings.Split(swapDotSlash(key), "/") {
		if c == "" || c == "." || c == ".." {
			return bad("empty, '.' or '..' component")
		}
	}
	return nil
}

func swapDotSlash(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, s)
}

// component quotes an interface name for use inside a dotted key.
func component(name string) string { return strings.ReplaceAll(name, ".", "/") }

// ConfKey returns net.<family>.conf.<ifname>.<leaf>; family is "ipv4" or "ipv6".
func ConfKey(family, ifname, leaf string) string {
	return "net." + family + ".conf." + component(ifname) + "." + leaf
}

// validValue checks a value: non-empty, one line.
func validValue(key, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("sysctl %s: empty value", key)
	}
	if strings.ContainsAny(v, "\n\r") {
		return fmt.Errorf("sysctl %s: value must be one line", key)
	}
	return nil
}

// sameValue compares sysctl values the way the kernel prints them: fields separated
// by any whitespace (net.ipv4.ip_local_port_range reads back "32768\t60999").
func sameValue(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// rank orders keys for writing: plain keys first (net.ipv4.ip_forward resets every
// interface's forwarding), then "all" and "default", then per-interface keys, so a
// per-interface value is never overwritten by a later global one.
func rank(key string) int {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		if (p == "conf" || p == "neigh") && i+1 < len(parts) {
			switch parts[i+1] {
			case "all":
				return 1
			case "default":
				return 2
			}
			return 3
		}
	}
	return 0
}
