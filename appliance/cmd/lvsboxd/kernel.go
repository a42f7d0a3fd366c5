package main

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// kernelFeatures reads what the running kernel's IPVS offers from /proc/modules,
// /proc/net/ip_vs and /lib/modules/$(uname -r).
func kernelFeatures() ipvs.Features {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ipvs.Features{}
	}
	return ipvs.ReadFeatures("/", "/", unix.ByteSliceToString(u.Release[:]))
}

// boxName names the director in real-server scripts: system.hostname, else the
// kernel host name.
func boxName(cfg config.Config) string {
	if cfg.System.Hostname != "" {
		return cfg.System.Hostname
	}
	if h, err := os.Hostname(); err == nil {
		return strings.TrimSpace(h)
	}
	return "lvsbox"
}
