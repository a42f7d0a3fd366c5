package config

import "net/netip"

// Protocol is the transport protocol of a virtual service.
type Protocol string

// Protocols a virtual service may use.
const (
	ProtocolTCP  Protocol = "tcp"
	ProtocolUDP  Protocol = "udp"
	ProtocolSCTP Protocol = "sctp"
)

// Family is an address family, named for fwmark services (which have no address).
type Family string

// Address families.
const (
	FamilyIPv4 Family = "ipv4"
	FamilyIPv6 Family = "ipv6"
)

// Forwarding is how IPVS hands packets to a real server.
type Forwarding string

// Forwarding methods.
const (
	ForwardingNAT Forwarding = "nat" // masquerading: the box rewrites the destination
	ForwardingDR  Forwarding = "dr"  // direct routing: same L2 segment, VIP on the real server
	ForwardingTun Forwarding = "tun" // tunnel to the real server (see Tunnel)
)

// TunnelType is the encapsulation of tun forwarding.
type TunnelType string

// Tunnel types (gue and gre need kernel 5.3 or later).
const (
	TunnelIPIP TunnelType = "ipip"
	TunnelGUE  TunnelType = "gue"
	TunnelGRE  TunnelType = "gre"
)

// Tunnel is the encapsulation used for tun forwarding.
type Tunnel struct {
	Type TunnelType `json:"type,omitempty"`
	// Port is the UDP destination port of gue encapsulation (gue only, required).
	Port int `json:"port,omitempty"`
}

// AdminState is the operator's intent for a real server.
type AdminState string

// Admin states.
const (
	StateEnabled  AdminState = "enabled"  // in service (subject to health checks)
	StateDrain    AdminState = "drain"    // weight 0: existing connections finish, no new ones
	StateDisabled AdminState = "disabled" // removed from the kernel table
)

// Schedulers are the IPVS schedulers lvsbox knows (the Debian kernel ships all of
// them as modules; see platform facts).
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"}

// SchedulerFlags maps each scheduler flag to the scheduler that understands it.
var SchedulerFlags = map[string]string{
	"sh-fallback": "sh",
	"sh-port":     "sh",
	"mh-fallback": "mh",
	"mh-port":     "mh",
}

// VirtualService is one IPVS virtual service and its real servers. It is keyed
// either by Protocol+Address+Port or by Fwmark+Family.
type VirtualService struct {
	Name     string     `json:"name"`
	Protocol Protocol   `json:"protocol,omitempty"`
	Address  netip.Addr `json:"address,omitzero"`
	// Port 0 (all ports) is allowed only with persistence.
	Port int `json:"port,omitempty"`
	// Fwmark, when non-zero, makes this a firewall-mark service (no address, port or
	// protocol; Family says which).
	Fwmark         uint32       `json:"fwmark,omitempty"`
	Family         Family       `json:"family,omitempty"`
	Scheduler      string       `json:"scheduler,omitempty"`
	SchedulerFlags []string     `json:"scheduler_flags,omitempty"`
	Persistence    *Persistence `json:"persistence,omitempty"`
	// OnePacket schedules each UDP datagram on its own (IPVS one-packet scheduling).
	OnePacket   bool         `json:"one_packet,omitempty"`
	Forwarding  Forwarding   `json:"forwarding,omitempty"`
	Tunnel      *Tunnel      `json:"tunnel,omitempty"`
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
	SorryServer *SorryServer `json:"sorry_server,omitempty"`
	Quorum      *Quorum      `json:"quorum,omitempty"`
	RealServers []RealServer `json:"real_servers,omitempty"`
}

// IsFwmark reports whether the service is keyed by a firewall mark.
func (vs VirtualService) IsFwmark() bool { return vs.Fwmark != 0 }

// Is6 reports whether the service is an IPv6 service.
func (vs VirtualService) Is6() bool {
	if vs.IsFwmark() {
		return vs.Family == FamilyIPv6
	}
	return vs.Address.Is6()
}

// Persistence sends a client to the same real server for Timeout after its last
// connection; clients are grouped by Netmask (IPv4) or PrefixLength (IPv6).
type Persistence struct {
	Timeout      Duration   `json:"timeout"`
	Netmask      netip.Addr `json:"netmask,omitzero"`
	PrefixLength int        `json:"prefix_length,omitempty"`
}

// RealServer is one destination behind a virtual service.
type RealServer struct {
	Address netip.Addr `json:"address"`
	// Port 0 (or absent) means the virtual service's port.
	Port int `json:"port,omitempty"`
	// Weight nil means DefaultWeight; 0 is a valid weight (no new connections).
	Weight *int `json:"weight,omitempty"`
	// Forwarding empty means the virtual service's forwarding.
	Forwarding Forwarding `json:"forwarding,omitempty"`
	// Tunnel nil means the service's tunnel (tun forwarding only).
	Tunnel *Tunnel `json:"tunnel,omitempty"`
	// Thresholds: 0 = none. Above Upper the server gets no new connections until it
	// is back below Lower.
	UpperThreshold uint32     `json:"upper_threshold,omitempty"`
	LowerThreshold uint32     `json:"lower_threshold,omitempty"`
	AdminState     AdminState `json:"admin_state,omitempty"`
	// HealthCheck, when set, replaces the service's check for this server.
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
}

// EffectiveWeight returns the real server's weight with the default applied.
func (rs RealServer) EffectiveWeight() int {
	if rs.Weight == nil {
		return DefaultWeight
	}
	return *rs.Weight
}

// SorryServer receives the service's connections while no real server is up (or
// quorum is lost).
type SorryServer struct {
	Address netip.Addr `json:"address"`
	// Port 0 means the service's port.
	Port int `json:"port,omitempty"`
}

// Quorum: the service is up while the sum of weights of healthy real servers is at
// least MinimumWeight (+Hysteresis to come back up, -Hysteresis to go down).
type Quorum struct {
	MinimumWeight int `json:"minimum_weight,omitempty"`
	Hysteresis    int `json:"hysteresis,omitempty"`
}

// CheckType is the kind of health check.
type CheckType string

// Health check types.
const (
	CheckNone   CheckType = "none" // no checking: the server always counts as up
	CheckTCP    CheckType = "tcp"
	CheckHTTP   CheckType = "http"
	CheckHTTPS  CheckType = "https"
	CheckUDP    CheckType = "udp"
	CheckDNS    CheckType = "dns"
	CheckSMTP   CheckType = "smtp"
	CheckICMP   CheckType = "icmp"
	CheckScript CheckType = "script"
)

// CheckTypes lists every CheckType.
var CheckTypes = []CheckType{CheckNone, CheckTCP, CheckHTTP, CheckHTTPS, CheckUDP, CheckDNS, CheckSMTP, CheckICMP, CheckScript}

// OnFailure is what happens to a real server that fails its check.
type OnFailure string

// Failure actions.
const (
	OnFailureRemove  OnFailure = "remove"  // delete it from the kernel table
	OnFailureQuiesce OnFailure = "quiesce" // weight 0: established connections continue
)

// HealthCheck describes how real servers are probed. Only the sub-object of the
// check's Type may be set.
type HealthCheck struct {
	Type       CheckType `json:"type"`
	Interval   Duration  `json:"interval,omitempty"`
	Timeout    Duration  `json:"timeout,omitempty"`
	Rise       int       `json:"rise,omitempty"`
	Fall       int       `json:"fall,omitempty"`
	Retries    int       `json:"retries,omitempty"`
	RetryDelay Duration  `json:"retry_delay,omitempty"`
	OnFailure  OnFailure `json:"on_failure,omitempty"`
	// TargetAddress/TargetPort probe somewhere else than the real server.
	TargetAddress netip.Addr   `json:"target_address,omitzero"`
	TargetPort    int          `json:"target_port,omitempty"`
	SourceAddress netip.Addr   `json:"source_address,omitzero"`
	TCP           *TCPCheck    `json:"tcp,omitempty"`
	HTTP          *HTTPCheck   `json:"http,omitempty"`
	UDP           *UDPCheck    `json:"udp,omitempty"`
	DNS           *DNSCheck    `json:"dns,omitempty"`
	SMTP          *SMTPCheck   `json:"smtp,omitempty"`
	Script        *ScriptCheck `json:"script,omitempty"`
}

// TCPCheck holds the options of tcp checks. Without it (or with HalfOpen false) a
// tcp check makes a full connect and resets it, as keepalived's TCP_CHECK does.
type TCPCheck struct {
	// HalfOpen probes with a SYN from a raw socket: a SYN-ACK means up, a RST means
	// the connection is refused, and the kernel resets the half-open connection, so
	// nothing reaches the server's application. ICMP errors are not seen: an
	// unreachable server shows as a timeout.
	HalfOpen bool `json:"half_open,omitempty"`
}

// HTTPCheck is the request and expectations of http and https checks.
type HTTPCheck struct {
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	Host   string `json:"host,omitempty"`
	// ExpectStatus lists codes ("200") and ranges ("200-299").
	ExpectStatus []string `json:"expect_status,omitempty"`
	BodyContains string   `json:"body_contains,omitempty"`
	BodyRegex    string   `json:"body_regex,omitempty"`
	// BodyDigest is the MD5 of the body in hex, as keepalived's genhash prints it.
	BodyDigest string `json:"body_digest,omitempty"`
	// TLS (https only).
	SNI        string `json:"sni,omitempty"`
	Verify     bool   `json:"verify,omitempty"`
	ClientCert string `json:"client_cert,omitempty"`
	ClientKey  string `json:"client_key,omitempty"`
}

// UDPCheck sends a datagram and optionally checks the reply.
type UDPCheck struct {
	PayloadHex string `json:"payload_hex,omitempty"`
	// ExpectHex: the reply must start with these bytes; empty = any reply is success.
	ExpectHex string `json:"expect_hex,omitempty"`
}

// DNSCheck sends one query.
type DNSCheck struct {
	Name         string `json:"name"`
	Type         string `json:"type,omitempty"`
	ExpectRcode  string `json:"expect_rcode,omitempty"`
	ExpectAnswer string `json:"expect_answer,omitempty"`
}

// DNSTypes and DNSRcodes are the names a DNS check accepts.
var (
	DNSTypes  = []string{"A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"}
	DNSRcodes = []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"}
)

// SMTPCheck reads the banner and greets the server.
type SMTPCheck struct {
	HeloName string `json:"helo_name,omitempty"`
}

// ScriptCheck runs an executable: exit 0 = up; with DynamicWeight exit 2-255 sets
// weight = code - 2 (keepalived's misc_dynamic).
type ScriptCheck struct {
	Path          string   `json:"path"`
	Args          []string `json:"args,omitempty"`
	Timeout       Duration `json:"timeout,omitempty"`
	DynamicWeight bool     `json:"dynamic_weight,omitempty"`
}

// Health check defaults.
const (
	DefaultCheckInterval   = Duration(2e9)
	DefaultCheckTimeout    = Duration(1e9)
	DefaultCheckRise       = 2
	DefaultCheckFall       = 2
	DefaultCheckRetryDelay = Duration(1e9)
	DefaultOnFailure       = OnFailureRemove
	DefaultHTTPMethod      = "GET"
	DefaultHTTPPath        = "/"
	DefaultHTTPStatus      = "200-299"
	DefaultDNSType         = "A"
	DefaultDNSRcode        = "NOERROR"
	DefaultHeloName        = "lvsbox"
)
