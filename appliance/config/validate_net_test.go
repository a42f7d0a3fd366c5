package config

import (
	"net/netip"
	"testing"
	"time"
)

func validationLines(c Config, env Env) []string {
	err := c.ValidateWith(env)
	if err == nil {
		return nil
	}
	return lines(err.(Errors))
}

// TestValidateNetwork: one row per rule of system, interfaces, routes, sysctls and
// IPVS globals, each asserting the exact path and message.
func TestValidateNetwork(t *testing.T) {
	hostLinks := []HostLink{{Name: "mgmt9", MAC: "52:54:00:00:00:01"}, {Name: "eth1"}, {Name: "eth2", MAC: "52-54-00-00-00-03"}}
	rows := []editRow{
		{"hostname", Env{}, func(c *Config) { c.System.Hostname = "-bad-" },
			[]string{`system.hostname: "-bad-" is not a host name (letters, digits, '-' and '.', at most 64 characters)`}},
		{"dns server twice", Env{}, func(c *Config) { c.System.DNSServers[1] = addr("192.0.2.53") },
			[]string{`system.dns_servers[1]: 192.0.2.53 is listed twice`}},
		{"dns server multicast", Env{}, func(c *Config) { c.System.DNSServers[0] = addr("224.0.0.1") },
			[]string{`system.dns_servers[0]: 224.0.0.1 is not a unicast address`}},
		{"dns search", Env{}, func(c *Config) { c.System.DNSSearch = []string{"exa mple"} },
			[]string{`system.dns_search[0]: "exa mple" is not a domain name`}},
		{"ntp server", Env{}, func(c *Config) { c.System.NTPServers[0] = "ntp..example" },
			[]string{`system.ntp_servers[0]: "ntp..example" is neither a host name nor an IP address`}},
		{"ntp server twice", Env{}, func(c *Config) { c.System.NTPServers[1] = c.System.NTPServers[0] },
			[]string{`system.ntp_servers[1]: "ntp1.example.net" is listed twice`}},
		{"time zone", Env{}, func(c *Config) { c.System.TimeZone = "Mars Base/1" },
			[]string{`system.time_zone: "Mars Base/1" is not a time zone name (e.g. UTC, Europe/Berlin)`}},
		{"syslog server missing", Env{}, func(c *Config) { c.System.Syslog.Server = "" },
			[]string{`system.syslog.server: required (a host name or IP address)`}},
		{"syslog port", Env{}, func(c *Config) { c.System.Syslog.Port = 70000 },
			[]string{`system.syslog.port: 70000 is not a port (1-65535)`}},
		{"syslog protocol", Env{}, func(c *Config) { c.System.Syslog.Protocol = "relp" },
			[]string{`system.syslog.protocol: "relp" is not a syslog protocol (udp or tcp)`}},

		{"interface name missing", Env{}, func(c *Config) { c.Interfaces = append(c.Interfaces, Interface{}) },
			[]string{`interfaces[5].name: required`}},
		{"interface name too long", Env{}, func(c *Config) {
			c.Interfaces = append(c.Interfaces, Interface{Name: "this-name-is-too-long"})
		}, []string{`interfaces[this-name-is-too-long].name: "this-name-is-too-long" is not an interface name (1-15 characters, no '/', ':' or spaces)`}},
		{"interface twice", Env{}, func(c *Config) { c.Interfaces = append(c.Interfaces, Interface{Name: "eth2"}) },
			[]string{`interfaces[eth2].name: interface "eth2" is listed twice`}},
		{"role", Env{}, func(c *Config) { ifc(c, "eth2").Role = "uplink" },
			[]string{`interfaces[eth2].role: "uplink" is not a role (management or data)`}},
		{"mac malformed", Env{}, func(c *Config) { ifc(c, "eth2").MAC = "52:54:00:zz:00:01" },
			[]string{`interfaces[eth2].mac: "52:54:00:zz:00:01" is not an Ethernet MAC address (e.g. 52:54:00:12:34:56)`}},
		{"mac on vlan", Env{}, func(c *Config) { ifc(c, "bond0.20").MAC = "52:54:00:00:00:09" },
			[]string{`interfaces[bond0.20].mac: only physical interfaces are matched by MAC (this one is a VLAN or bond)`}},
		{"mac twice", Env{}, func(c *Config) { ifc(c, "eth2").MAC = "52-54-00-00-00-01" },
			[]string{`interfaces[eth2].mac: 52:54:00:00:00:01 is already used by interfaces[mgmt0]`}},
		{"dhcp on data", Env{}, func(c *Config) { ifc(c, "bond0.20").DHCP = true },
			[]string{`interfaces[bond0.20].dhcp: DHCP is only allowed on management interfaces (set role to management)`}},
		{"address twice", Env{}, func(c *Config) {
			ifc(c, "bond0.20").Addresses = append(ifc(c, "bond0.20").Addresses, pfx("198.51.100.2/32"))
		}, []string{`interfaces[bond0.20].addresses[1]: address 198.51.100.2 is already used by interfaces[bond0].addresses[0]`}},
		{"address v4-mapped", Env{}, func(c *Config) { ifc(c, "mgmt0").Addresses[0] = pfx("::ffff:192.0.2.2/120") },
			[]string{`interfaces[mgmt0].addresses[0]: ::ffff:192.0.2.2: write IPv4 addresses in dotted form`}},
		{"address unspecified", Env{}, func(c *Config) { ifc(c, "mgmt0").Addresses[0] = pfx("0.0.0.0/0") },
			[]string{`interfaces[mgmt0].addresses[0]: 0.0.0.0 is not a unicast address`}},
		{"address missing", Env{}, func(c *Config) { ifc(c, "mgmt0").Addresses[0] = netip.Prefix{} },
			[]string{`interfaces[mgmt0].addresses[0]: empty address (want address/prefix-length, e.g. 192.0.2.2/24)`}},
		{"mtu", Env{}, func(c *Config) { ifc(c, "eth2").MTU = 50 },
			[]string{`interfaces[eth2].mtu: 50 is not an MTU (68-65535)`}},
		{"mtu below ipv6 minimum", Env{}, func(c *Config) {
			m := ifc(c, "mgmt0")
			m.MTU = 1200
			m.Addresses = append(m.Addresses, pfx("2001:db8:1::2/64"))
		}, []string{`interfaces[mgmt0].mtu: 1200 is below 1280, the minimum MTU for IPv6 (the interface has IPv6 addresses)`}},
		{"vlan and bond", Env{}, func(c *Config) {
			c.Interfaces = append(c.Interfaces, Interface{Name: "both", VLAN: &VLAN{Parent: "mgmt0", ID: 5}, Bond: &Bond{}})
		}, []string{`interfaces[both]: an interface is either a VLAN or a bond, not both`}},
		{"vlan parent missing", Env{}, func(c *Config) { ifc(c, "bond0.20").VLAN.Parent = "" },
			[]string{`interfaces[bond0.20].vlan.parent: required`}},
		{"vlan parent unknown", Env{}, func(c *Config) { ifc(c, "bond0.20").VLAN.Parent = "eth9" },
			[]string{`interfaces[bond0.20].vlan.parent: "eth9" is not a configured interface (add it to interfaces)`}},
		{"vlan on vlan", Env{}, func(c *Config) {
			c.Interfaces = append(c.Interfaces, Interface{Name: "qinq", VLAN: &VLAN{Parent: "bond0.20", ID: 30}})
		}, []string{`interfaces[qinq].vlan.parent: "bond0.20" is itself a VLAN (stacked VLANs are not supported)`}},
		{"vlan on bond member", Env{}, func(c *Config) { ifc(c, "bond0.20").VLAN.Parent = "eth1" },
			[]string{`interfaces[bond0.20].vlan.parent: "eth1" is a member of bond "bond0": put the VLAN on the bond`}},
		{"vlan own parent", Env{}, func(c *Config) { ifc(c, "bond0.20").VLAN.Parent = "bond0.20" },
			[]string{`interfaces[bond0.20].vlan.parent: a VLAN cannot be its own parent`}},
		{"vlan id", Env{}, func(c *Config) { ifc(c, "bond0.20").VLAN.ID = 4095 },
			[]string{`interfaces[bond0.20].vlan.id: 4095 is not a VLAN id (1-4094)`}},
		{"vlan twice", Env{}, func(c *Config) {
			c.Interfaces = append(c.Interfaces, Interface{Name: "v20", VLAN: &VLAN{Parent: "bond0", ID: 20}})
		}, []string{`interfaces[v20].vlan.id: VLAN 20 on "bond0" is already defined by interfaces[bond0.20]`}},
		{"vlan mtu above parent", Env{}, func(c *Config) { ifc(c, "bond0.20").MTU = 9216 },
			[]string{`interfaces[bond0.20].mtu: 9216 is larger than the MTU 9000 of the parent "bond0"`}},
		{"bond mode", Env{}, func(c *Config) { ifc(c, "bond0").Bond.Mode = "lacp" },
			[]string{`interfaces[bond0].bond.mode: "lacp" is not a bonding mode (one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb)`}},
		{"bond without members", Env{}, func(c *Config) { ifc(c, "bond0").Bond.Members = nil },
			[]string{`interfaces[bond0].bond.members: a bond needs at least one member`}},
		{"bond member unknown", Env{}, func(c *Config) { ifc(c, "bond0").Bond.Members[1] = "eth7" },
			[]string{`interfaces[bond0].bond.members[1]: "eth7" is not a configured interface (add it to interfaces)`}},
		{"bond member not physical", Env{}, func(c *Config) {
			c.Interfaces = append(c.Interfaces, Interface{Name: "bond1", Bond: &Bond{Members: []string{"bond0.20"}}})
		}, []string{`interfaces[bond1].bond.members[0]: "bond0.20" is a VLAN or bond; bond members must be physical interfaces`}},
		{"bond member in two bonds", Env{}, func(c *Config) {
			c.Interfaces = append(c.Interfaces, Interface{Name: "bond1", Bond: &Bond{Members: []string{"eth2"}}})
		}, []string{`interfaces[bond1].bond.members[0]: "eth2" is already a member of bond "bond0"`}},
		{"bond member twice", Env{}, func(c *Config) { ifc(c, "bond0").Bond.Members[1] = "eth1" },
			[]string{`interfaces[bond0].bond.members[1]: "eth1" is listed twice`}},
		{"bond own member", Env{}, func(c *Config) { ifc(c, "bond0").Bond.Members = append(ifc(c, "bond0").Bond.Members, "bond0") },
			[]string{`interfaces[bond0].bond.members[2]: a bond cannot be its own member`}},
		{"bond member with addresses", Env{}, func(c *Config) { ifc(c, "eth2").Addresses = []netip.Prefix{pfx("192.0.2.77/24")} },
			[]string{`interfaces[eth2]: member of bond "bond0": put its addresses on the bond, not on the member`}},
		{"bond miimon", Env{}, func(c *Config) { ifc(c, "bond0").Bond.MIIMon = Duration(1500 * time.Microsecond) },
			[]string{`interfaces[bond0].bond.miimon: 1.5ms is not a whole number of milliseconds`}},
		{"env: all present", Env{Links: hostLinks}, func(c *Config) {}, nil},
		{"env: mac not present", Env{Links: hostLinks[1:]}, func(c *Config) {},
			[]string{`interfaces[mgmt0].mac: no interface with MAC 52:54:00:00:00:01 on this system`}},
		{"env: mac matched in another form", Env{Links: hostLinks}, func(c *Config) { ifc(c, "eth2").MAC = "52:54:00:00:00:03" }, nil},
		{"env: no such name", Env{Links: hostLinks}, func(c *Config) {
			ifc(c, "eth1").Name = "eth1x"
			ifc(c, "bond0").Bond.Members[0] = "eth1x"
			inst(c, "front").TrackInterfaces[1].Interface = "eth1x"
		},
			[]string{`interfaces[eth1x].name: no interface named "eth1x" on this system (it has: mgmt9, eth1, eth2)`}},

		{"route destination missing", Env{}, func(c *Config) { c.Routes[0].Destination = netip.Prefix{} },
			[]string{`routes[0].destination: required (e.g. 0.0.0.0/0)`}},
		{"route host bits", Env{}, func(c *Config) { c.Routes[1].Destination = pfx("10.1.2.3/8") },
			[]string{`routes[1].destination: 10.1.2.3/8 has host bits set (did you mean 10.0.0.0/8?)`}},
		{"route neither gateway nor device", Env{}, func(c *Config) { c.Routes[2].Device = "" },
			[]string{`routes[2]: a route needs a gateway, a device or both`}},
		{"route gateway family", Env{}, func(c *Config) { c.Routes[0].Gateway = addr("2001:db8::1") },
			[]string{`routes[0].gateway: 2001:db8::1 is not the same address family as 0.0.0.0/0`}},
		{"route gateway multicast", Env{}, func(c *Config) { c.Routes[0].Gateway = addr("239.1.1.1") },
			[]string{`routes[0].gateway: 239.1.1.1 is not a unicast address`}},
		{"route link-local gateway", Env{}, func(c *Config) { c.Routes[2].Gateway = addr("fe80::1"); c.Routes[2].Device = "" },
			[]string{`routes[2].gateway: link-local gateway fe80::1 needs a device`}},
		{"route device unknown", Env{}, func(c *Config) { c.Routes[2].Device = "eth9" },
			[]string{`routes[2].device: "eth9" is not a configured interface (add it to interfaces)`}},
		{"route twice", Env{}, func(c *Config) {
			c.Routes = append(c.Routes, Route{Destination: pfx("0.0.0.0/0"), Gateway: addr("192.0.2.254"), Table: TableMain})
		},
			[]string{`routes[3].destination: route to 0.0.0.0/0 (table 254, metric 0) is already defined by routes[0]`}},

		{"sysctl name", Env{}, func(c *Config) { c.Sysctls["net/ipv4/ip_forward"] = "1" },
			[]string{`sysctls[net/ipv4/ip_forward]: "net/ipv4/ip_forward" is not a sysctl name (dotted, e.g. net.ipv4.ip_forward; a '.' inside an interface name is written '/')`}},
		{"sysctl empty", Env{}, func(c *Config) { c.Sysctls["net.core.somaxconn"] = "" },
			[]string{`sysctls[net.core.somaxconn]: empty value`}},
		{"sysctl two lines", Env{}, func(c *Config) { c.Sysctls["net.core.somaxconn"] = "1\n2" },
			[]string{`sysctls[net.core.somaxconn]: a value is one line of at most 4096 bytes`}},

		{"ipvs timeout fraction", Env{}, func(c *Config) { c.IPVS.Timeouts.TCP = Duration(1500 * time.Millisecond) },
			[]string{`ipvs.timeouts.tcp: 1.5s is not a whole number of seconds`}},
		{"ipvs timeout too long", Env{}, func(c *Config) { c.IPVS.Timeouts.UDP = Duration(1000 * time.Hour) },
			[]string{`ipvs.timeouts.udp: 1000h is longer than the maximum 596h31m23s`}},
		{"sync daemon without interface", Env{}, func(c *Config) { c.IPVS.SyncDaemon.Interface = "" },
			[]string{`ipvs.sync_daemon.interface: required when the sync daemon is enabled`}},
		{"sync daemon interface unknown", Env{}, func(c *Config) { c.IPVS.SyncDaemon.Interface = "eth9" },
			[]string{`ipvs.sync_daemon.interface: "eth9" is not a configured interface (add it to interfaces)`}},
		{"sync id", Env{}, func(c *Config) { c.IPVS.SyncDaemon.SyncID = 300 },
			[]string{`ipvs.sync_daemon.sync_id: 300 is not a sync id (0-255)`}},
		{"sync group", Env{}, func(c *Config) { c.IPVS.SyncDaemon.MulticastGroup = addr("192.0.2.81") },
			[]string{`ipvs.sync_daemon.multicast_group: 192.0.2.81 is not a multicast address`}},
		{"sync port", Env{}, func(c *Config) { c.IPVS.SyncDaemon.Port = 65536 },
			[]string{`ipvs.sync_daemon.port: 65536 is not a port (1-65535)`}},
		{"sync ttl", Env{}, func(c *Config) { c.IPVS.SyncDaemon.TTL = 256 },
			[]string{`ipvs.sync_daemon.ttl: 256 is not a TTL (1-255)`}},
	}
	runEditRows(t, rows, validationLines)
}
