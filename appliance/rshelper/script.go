package rshelper

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"text/template"
)

type scriptData struct {
	Box, Service, Endpoint, File string
	DR, TUN, IPv6                bool
	Reals                        string
	// Dev is where the VIPs go: lo (DR), tunl0 or ip6tnl0 (TUN).
	Dev, Module string
	VIPs        []string // with prefix length
}

func render(box Box, svc Service, g *group, vips []netip.Addr, file string) (string, error) {
	d := scriptData{
		Box:     safe(box.Name),
		Service: safe(svc.Name),
		File:    file,
		DR:      g.fwd == DR,
		TUN:     g.fwd == TUN,
		IPv6:    g.v6,
		Dev:     "lo",
	}
	if d.Box == "" {
		d.Box = "lvsbox"
	}
	var vs []string
	for _, v := range vips {
		vs = append(vs, v.String())
		bits := 32
		if g.v6 {
			bits = 128
		}
		d.VIPs = append(d.VIPs, netip.PrefixFrom(v, bits).String())
	}
	switch {
	case svc.Fwmark != 0:
		d.Endpoint = fmt.Sprintf("fwmark %d, VIPs %s", svc.Fwmark, strings.Join(vs, " "))
	case g.v6:
		d.Endpoint = fmt.Sprintf("%s [%s]:%d", safe(svc.Protocol), vs[0], svc.Port)
	default:
		d.Endpoint = fmt.Sprintf("%s %s:%d", safe(svc.Protocol), vs[0], svc.Port)
	}
	var rs []string
	for _, r := range g.reals {
		rs = append(rs, r.String())
	}
	d.Reals = strings.Join(rs, " ")
	if d.TUN {
		d.Dev, d.Module = "tunl0", "ipip"
		if g.v6 {
			d.Dev, d.Module = "ip6tnl0", "ip6_tunnel"
		}
	}
	var b bytes.Buffer
	if err := scriptTmpl.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

var scriptTmpl = template.Must(template.New("script").Parse(`#!/bin/sh
# lvsbox real-server script
#
#   box:          {{.Box}}
#   service:      {{.Service}} ({{.Endpoint}})
#   forwarding:   {{if .DR}}dr (direct routing){{else}}tun ({{if .IPv6}}IPv6-in-IPv6{{else}}IP-in-IP{{end}} tunnel){{end}}
#   real servers: {{.Reals}}
#
# Run as root on each real server listed above (needs iproute2):
#   sh {{.File}}         set up (safe to run again)
#   sh {{.File}} undo    remove the VIPs again
{{- if not .IPv6}}
# IFACE=eth1 sh {{.File}} names the interface the director's packets arrive on
# (default: the interface of the default route).
{{- end}}
{{- if .DR}}
#
# The director forwards packets unchanged (still addressed to the VIP) to this
# server's MAC address, so the VIP goes on lo as a host address: the server accepts
# the packets and answers clients directly from the VIP.
{{- else}}
#
# The director wraps each packet in an {{if .IPv6}}IPv6{{else}}IPv4{{end}} header addressed to this server; the
# {{.Module}} module's fallback device {{.Dev}} unwraps it and the VIP on {{.Dev}} accepts the
# inner packet; this server answers clients directly from the VIP. The extra header
# ({{if .IPv6}}40{{else}}20{{end}} bytes) makes full-size packets too big for the tunnel path: if large
# transfers stall, lower the MSS this server advertises (ip route change ... advmss).
{{- end}}
#
{{- if .IPv6}}
# IPv6 needs no ARP settings: Linux answers neighbour solicitations only for
# addresses on the interface they arrive on, never for a VIP on {{.Dev}}.
{{- else}}
# arp_ignore=1: answer ARP only for addresses on the interface the request arrives
# on, so never for the VIP; arp_announce=2: never use the VIP as the sender of ARP
# requests. Only the director may own the VIP on the network. The kernel uses the
# higher of "all" and the interface's value; both are set so that resetting one of
# them does not bring the ARP answers back.
{{- end}}
{{- if and .TUN (not .IPv6)}}
#
# rp_filter=0 on {{.Dev}} and all: unwrapped packets come from clients whose route leads
# out of another interface, which reverse-path filtering would drop ({{.Dev}} uses the
# higher of "all" and its own value).
{{- else if .DR}}
{{- if not .IPv6}}
#
# rp_filter is left alone: strict (1) or loose (2) both work while the route back to
# the clients leaves by the interface the director's packets arrive on; on a
# multi-homed server where it does not, set net.ipv4.conf.IFACE.rp_filter=2.
{{- end}}
{{- end}}
#
# Nothing here survives a reboot: run the script at boot (a systemd unit,
# /etc/rc.local) or put the same settings into your network configuration.
set -eu

say() { echo "lvsbox-rs: $*"; }
{{- if not .IPv6}}

# conf FAMILY DEVICE KEY VALUE: set net.FAMILY.conf.DEVICE.KEY when it differs.
conf() {
	f="/proc/sys/net/$1/conf/$2/$3"
	if [ ! -e "$f" ]; then
		say "no $f, skipped"
		return 0
	fi
	cur=$(cat "$f")
	if [ "$cur" != "$4" ]; then
		echo "$4" >"$f"
		say "net.$1.conf.$2.$3: $cur -> $4"
	fi
}
{{- end}}

# has_addr DEVICE ADDRESS/LENGTH
has_addr() {
	ip -o addr show dev "$1" 2>/dev/null | grep -qF " $2 "
}

add_addr() {
	if ! has_addr "$1" "$2"; then
		ip addr add "$2" dev "$1"
		say "added $2 on $1"
	fi
}

del_addr() {
	if has_addr "$1" "$2"; then
		ip addr del "$2" dev "$1"
		say "removed $2 from $1"
	fi
}

{{- if not .IPv6}}

# vips_left: is any VIP (a global address on lo or a tunnel device) still configured?
vips_left() {
	for dev in lo tunl0 ip6tnl0; do
		if ip -o addr show dev "$dev" scope global 2>/dev/null | grep -q .; then
			return 0
		fi
	done
	return 1
}

IFACE=${IFACE-$(ip -4 route show default 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n 1)}

# arp_sysctls IGNORE ANNOUNCE: on all, lo and IFACE
arp_sysctls() {
	for dev in all lo $IFACE; do
		conf ipv4 "$dev" arp_ignore "$1"
		conf ipv4 "$dev" arp_announce "$2"
	done
}
{{- end}}

setup() {
{{- if .TUN}}
	modprobe {{.Module}} 2>/dev/null || true
	if ! ip link show {{.Dev}} >/dev/null 2>&1; then
		echo "lvsbox-rs: no {{.Dev}}: this kernel lacks the {{.Module}} module" >&2
		exit 1
	fi
{{- end}}
{{- if not .IPv6}}
	arp_sysctls 1 2
{{- end}}
{{- if and .TUN (not .IPv6)}}
	conf ipv4 {{.Dev}} rp_filter 0
	conf ipv4 all rp_filter 0
{{- end}}
{{- range .VIPs}}
	add_addr {{$.Dev}} {{.}}
{{- end}}
{{- if .TUN}}
	ip link set {{.Dev}} up
{{- end}}
	say "set up for {{.Service}}"
}

undo() {
{{- range .VIPs}}
	del_addr {{$.Dev}} {{.}}
{{- end}}
{{- if .TUN}}
	if ip link show {{.Dev}} >/dev/null 2>&1 && ! ip -o addr show dev {{.Dev}} scope global | grep -q .; then
		ip link set {{.Dev}} down
	fi
{{- end}}
{{- if not .IPv6}}
	if vips_left; then
		say "other VIPs remain: ARP settings kept"
	else
		arp_sysctls 0 0
	fi
{{- end}}
{{- if and .TUN (not .IPv6)}}
	say "rp_filter on all stays 0; restore your distribution's value if you need it (sysctl --system)"
{{- end}}
	say "undone for {{.Service}}"
}

case "${1:-setup}" in
setup) setup ;;
undo) undo ;;
*)
	echo "usage: $0 [setup|undo]" >&2
	exit 2
	;;
esac
`))
