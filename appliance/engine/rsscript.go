package engine

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/rshelper"
)

// RealServerScript returns the script(s) the DR and TUN real servers of the service
// named name need (VIP on lo or tunl0, ARP and rp_filter sysctls), for box (the
// director's name, shown in the header). Several scripts (DR and TUN, IPv4 and IPv6
// real servers) are concatenated, each under a comment naming its file. The error
// wraps rshelper.ErrNoScript for a NAT-only service. It is pure.
func RealServerScript(cfg config.Config, box, name string) (string, error) {
	cfg = cfg.WithDefaults()
	for _, vs := range cfg.VirtualServices {
		if vs.Name != name {
			continue
		}
		svc := rshelper.Service{Name: vs.Name, Port: vs.Port, Fwmark: vs.Fwmark, Forwarding: rshelper.Forwarding(vs.Forwarding)}
		if !vs.IsFwmark() {
			svc.Protocol = string(vs.Protocol)
			svc.VIPs = []netip.Addr{vs.Address}
		}
		if vs.Tunnel != nil {
			svc.Tunnel = string(vs.Tunnel.Type)
		}
		for _, rs := range vs.RealServers {
			r := rshelper.RealServer{Address: rs.Address, Forwarding: rshelper.Forwarding(rs.Forwarding)}
			if rs.Tunnel != nil {
				r.Tunnel = string(rs.Tunnel.Type)
			}
			svc.RealServers = append(svc.RealServers, r)
		}
		scripts, err := rshelper.Scripts(rshelper.Box{Name: box}, svc)
		if err != nil {
			return "", err
		}
		if len(scripts) == 1 {
			return scripts[0].Text, nil
		}
		var b strings.Builder
		for i, s := range scripts {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "# ===== %s (%s, %d real servers) =====\n", s.FileName, s.Forwarding, len(s.RealServers))
			b.WriteString(s.Text)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("no virtual service named %q", name)
}
