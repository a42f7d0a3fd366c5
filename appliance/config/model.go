package config

import (
	"net/netip"
	"time"
)

// SchemaVersion is the version of the document format described here.
const SchemaVersion = 1

// Config is one complete lvsbox configuration document. The JSON names are the
// contract (docs/config-reference.md); zero values mean "default" unless a field's
// documentation says otherwise, and WithDefaults makes every default explicit.
type Config struct {
	System     System      `json:"system"`
	Interfaces []Interface `json:"interfaces,omitempty"`
	Routes     []Route     `json:"routes,omitempty"`
	// Sysctls are overrides, name (dotted, `net.ipv4.ip_forward`) to value; they win
	// over the values lvsbox computes.
	Sysctls         map[string]string `json:"sysctls,omitempty"`
	IPVS            IPVS              `json:"ipvs,omitzero"`
	VirtualServices []VirtualService  `json:"virtual_services,omitempty"`
	VRRPScripts     []VRRPScript      `json:"vrrp_scripts,omitempty"`
	VRRPInstances   []VRRPInstance    `json:"vrrp_instances,omitempty"`
	VRRPSyncGroups  []VRRPSyncGroup   `json:"vrrp_sync_groups,omitempty"`
	Users           []User            `json:"users,omitempty"`
}

// System holds box-wide settings.
type System struct {
	// Hostname is the kernel host name; empty leaves it as PID 1 set it.
	Hostname   string       `json:"hostname,omitempty"`
	DNSServers []netip.Addr `json:"dns_servers,omitempty"`
	DNSSearch  []string     `json:"dns_search,omitempty"`
	// NTPServers are host names or addresses.
	NTPServers []string `json:"ntp_servers,omitempty"`
	// TimeZone is an IANA zone name ("Europe/Berlin"); default UTC.
	TimeZone string `json:"time_zone,omitempty"`
	// Syslog, when set, is a remote syslog target that receives a copy of the logs.
	Syslog *Syslog `json:"syslog,omitempty"`
}

// Syslog is a remote syslog target.
type Syslog struct {
	Server   string `json:"server"`
	Port     int    `json:"port,omitempty"`
	Protocol string `json:"protocol,omitempty"` // udp or tcp
}

// Role says what an interface is for; it chooses offload defaults and where DHCP and
// the management services are allowed.
type Role string

// Interface roles.
const (
	RoleManagement Role = "management"
	RoleData       Role = "data"
)

// Interface is one network interface lvsbox manages: a physical NIC (matched by name,
// or by MAC and then known by Name), a VLAN on another configured interface, or a bond
// of configured NICs.
type Interface struct {
	Name string `json:"name"`
	// MAC, for physical NICs, selects the NIC by hardware address; it is then renamed
	// to Name.
	MAC       string         `json:"mac,omitempty"`
	Role      Role           `json:"role,omitempty"`
	Addresses []netip.Prefix `json:"addresses,omitempty"`
	// DHCP asks for an IPv4 address by DHCP (management interfaces only).
	DHCP bool `json:"dhcp,omitempty"`
	// MTU 0 leaves the interface's MTU as it is.
	MTU     int     `json:"mtu,omitempty"`
	VLAN    *VLAN   `json:"vlan,omitempty"`
	Bond    *Bond   `json:"bond,omitempty"`
	Offload Offload `json:"offload,omitzero"`
}

// IsPhysical reports whether the interface is a NIC (neither a VLAN nor a bond).
func (in Interface) IsPhysical() bool { return in.VLAN == nil && in.Bond == nil }

// VLAN makes the interface an 802.1Q VLAN device on Parent.
type VLAN struct {
	Parent string `json:"parent"`
	ID     int    `json:"id"`
}

// Bond makes the interface a bonding device over Members.
type Bond struct {
	Mode    string   `json:"mode,omitempty"`
	Members []string `json:"members"`
	// MIIMon is the link monitoring interval (whole milliseconds).
	MIIMon Duration `json:"miimon,omitempty"`
}

// Bonding modes (the kernel's names).
var BondModes = []string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}

// Offload is the NIC offload policy. nil leaves a feature as the NIC has it, except
// that on data interfaces GRO, LRO and hardware GRO default to off (IPVS drops the
// aggregated packets that are larger than the MTU).
type Offload struct {
	GRO   *bool `json:"gro,omitempty"`
	LRO   *bool `json:"lro,omitempty"`
	GROHW *bool `json:"gro_hw,omitempty"`
	GSO   *bool `json:"gso,omitempty"`
	TSO   *bool `json:"tso,omitempty"`
}

// Route is a static route: through Gateway, or directly out of Device, or both.
type Route struct {
	Destination netip.Prefix `json:"destination"`
	Gateway     netip.Addr   `json:"gateway,omitzero"`
	Device      string       `json:"device,omitempty"`
	Metric      uint32       `json:"metric,omitempty"`
	// Table 0 means the main table (254).
	Table uint32 `json:"table,omitempty"`
}

// TableMain is the kernel's main routing table.
const TableMain = 254

// IPVS holds the kernel-wide IPVS settings.
type IPVS struct {
	Timeouts   IPVSTimeouts `json:"timeouts,omitzero"`
	SyncDaemon SyncDaemon   `json:"sync_daemon,omitzero"`
	// DrainTime is how long a real server removed from the configuration stays in the
	// table with weight 0 before it is deleted; nil means DefaultDrainTime, 0 deletes
	// at once.
	DrainTime *Duration `json:"drain_time,omitempty"`
}

// IPVSTimeouts are the connection timeouts (ipvsadm --set); whole seconds, zero
// means the kernel default.
type IPVSTimeouts struct {
	TCP    Duration `json:"tcp,omitempty"`
	TCPFin Duration `json:"tcp_fin,omitempty"`
	UDP    Duration `json:"udp,omitempty"`
}

// SyncDaemon is the IPVS connection-synchronisation daemon. When enabled lvsbox runs
// both the master and the backup daemon on every node.
type SyncDaemon struct {
	Enabled        bool       `json:"enabled,omitempty"`
	Interface      string     `json:"interface,omitempty"`
	SyncID         int        `json:"sync_id,omitempty"`
	MulticastGroup netip.Addr `json:"multicast_group,omitzero"`
	Port           int        `json:"port,omitempty"`
	TTL            int        `json:"ttl,omitempty"`
}

// Users and roles.

// UserRole is what a user may do through the API.
type UserRole string

// User roles, most to least privileged.
const (
	RoleAdmin    UserRole = "admin"    // everything, including users
	RoleOperator UserRole = "operator" // change configuration, drain servers
	RoleViewer   UserRole = "viewer"   // read only
)

// User is an account of the API and UIs.
type User struct {
	Name string   `json:"name"`
	Role UserRole `json:"role"`
	// PasswordHash is a KDF hash in PHC/crypt string form ("$argon2id$...",
	// "$2a$..."); empty means the user cannot log in with a password.
	PasswordHash string     `json:"password_hash,omitempty"`
	Tokens       []APIToken `json:"tokens,omitempty"`
}

// APIToken is a bearer token of a user, stored only as a hash.
type APIToken struct {
	Name string `json:"name"`
	// Hash is the token's hash as the API writes it (e.g. "sha256:<hex>").
	Hash    string    `json:"hash"`
	Created time.Time `json:"created,omitzero"`
	// Expires zero means the token does not expire.
	Expires time.Time `json:"expires,omitzero"`
}

// Defaults applied by WithDefaults.
const (
	DefaultProtocol   = ProtocolTCP
	DefaultScheduler  = "wlc"
	DefaultForwarding = ForwardingDR
	DefaultWeight     = 1
	DefaultRole       = RoleData
	DefaultTimeZone   = "UTC"
	DefaultSyslogPort = 514
	DefaultBondMode   = "active-backup"
	DefaultMIIMon     = Duration(100e6) // 100ms
)

// Defaults of the IPVS globals (the kernel's own defaults, made explicit).
var (
	DefaultTCPTimeout      = Duration(900e9)
	DefaultTCPFinTimeout   = Duration(120e9)
	DefaultUDPTimeout      = Duration(300e9)
	DefaultDrainTime       = Duration(30e9)
	DefaultSyncGroup       = netip.MustParseAddr("224.0.0.81")
	DefaultSyncPort        = 8848
	DefaultSyncTTL         = 1
	DefaultFwmarkFamily    = FamilyIPv4
	DefaultTunnelType      = TunnelIPIP
	DefaultAdminState      = StateEnabled
	DefaultPersistMask4    = netip.MustParseAddr("255.255.255.255")
	DefaultPersistPrefix6  = 128
	DefaultQuorumMinWeight = 1
)
