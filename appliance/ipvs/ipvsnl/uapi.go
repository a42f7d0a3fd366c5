package ipvsnl

import "strconv"

// Constants of include/uapi/linux/ip_vs.h (generic netlink part), written out here.

// FamilyName is the generic netlink family of IPVS (IPVS_GENL_NAME).
const FamilyName = "IPVS"

// familyVersion is IPVS_GENL_VERSION, sent in every generic netlink header.
const familyVersion = 1

// Command is a generic netlink command of the IPVS family (IPVS_CMD_*).
type Command uint8

// IPVS commands.
const (
	CmdNewService Command = 1  // IPVS_CMD_NEW_SERVICE
	CmdSetService Command = 2  // IPVS_CMD_SET_SERVICE
	CmdDelService Command = 3  // IPVS_CMD_DEL_SERVICE
	CmdGetService Command = 4  // IPVS_CMD_GET_SERVICE
	CmdNewDest    Command = 5  // IPVS_CMD_NEW_DEST
	CmdSetDest    Command = 6  // IPVS_CMD_SET_DEST
	CmdDelDest    Command = 7  // IPVS_CMD_DEL_DEST
	CmdGetDest    Command = 8  // IPVS_CMD_GET_DEST
	CmdNewDaemon  Command = 9  // IPVS_CMD_NEW_DAEMON
	CmdDelDaemon  Command = 10 // IPVS_CMD_DEL_DAEMON
	CmdGetDaemon  Command = 11 // IPVS_CMD_GET_DAEMON
	CmdSetConfig  Command = 12 // IPVS_CMD_SET_CONFIG
	CmdGetConfig  Command = 13 // IPVS_CMD_GET_CONFIG
	CmdSetInfo    Command = 14 // IPVS_CMD_SET_INFO (only in GET_INFO replies)
	CmdGetInfo    Command = 15 // IPVS_CMD_GET_INFO
	CmdZero       Command = 16 // IPVS_CMD_ZERO
	CmdFlush      Command = 17 // IPVS_CMD_FLUSH
)

var commandNames = map[Command]string{
	CmdNewService: "new service", CmdSetService: "set service", CmdDelService: "delete service",
	CmdGetService: "get service", CmdNewDest: "new destination", CmdSetDest: "set destination",
	CmdDelDest: "delete destination", CmdGetDest: "get destinations", CmdNewDaemon: "new daemon",
	CmdDelDaemon: "delete daemon", CmdGetDaemon: "get daemons", CmdSetConfig: "set config",
	CmdGetConfig: "get config", CmdSetInfo: "set info", CmdGetInfo: "get info", CmdZero: "zero",
	CmdFlush: "flush",
}

func (c Command) String() string {
	if s, ok := commandNames[c]; ok {
		return s
	}
	return "command " + strconv.Itoa(int(c))
}

// Top-level attributes (IPVS_CMD_ATTR_*).
const (
	cmdAttrService       = 1 // nested service
	cmdAttrDest          = 2 // nested destination
	cmdAttrDaemon        = 3 // nested sync daemon
	cmdAttrTimeoutTCP    = 4 // u32 seconds
	cmdAttrTimeoutTCPFin = 5 // u32 seconds
	cmdAttrTimeoutUDP    = 6 // u32 seconds
)

// Service attributes (IPVS_SVC_ATTR_*).
const (
	svcAttrAF        = 1  // u16
	svcAttrProtocol  = 2  // u16
	svcAttrAddr      = 3  // union nf_inet_addr (16 bytes)
	svcAttrPort      = 4  // be16
	svcAttrFWMark    = 5  // u32
	svcAttrSchedName = 6  // NUL-terminated string, at most 15 characters
	svcAttrFlags     = 7  // struct ip_vs_flags {u32 flags; u32 mask}
	svcAttrTimeout   = 8  // u32 seconds
	svcAttrNetmask   = 9  // be32 mask (IPv4) or u32 prefix length (IPv6)
	svcAttrStats     = 10 // nested stats (32-bit counters)
	svcAttrPEName    = 11 // NUL-terminated string
	svcAttrStats64   = 12 // nested stats (64-bit counters)
)

// Destination attributes (IPVS_DEST_ATTR_*).
const (
	destAttrAddr         = 1  // union nf_inet_addr (16 bytes)
	destAttrPort         = 2  // be16
	destAttrFwdMethod    = 3  // u32 (IP_VS_CONN_F_FWD_MASK bits)
	destAttrWeight       = 4  // u32 (int in the kernel)
	destAttrUThresh      = 5  // u32
	destAttrLThresh      = 6  // u32
	destAttrActiveConns  = 7  // u32
	destAttrInactConns   = 8  // u32
	destAttrPersistConns = 9  // u32
	destAttrStats        = 10 // nested stats (32-bit counters)
	destAttrAddrFamily   = 11 // u16
	destAttrStats64      = 12 // nested stats (64-bit counters)
	destAttrTunType      = 13 // u8
	destAttrTunPort      = 14 // be16
	destAttrTunFlags     = 15 // u16
)

// Sync daemon attributes (IPVS_DAEMON_ATTR_*).
const (
	daemonAttrState       = 1 // u32
	daemonAttrMcastIfn    = 2 // NUL-terminated string, at most 15 characters
	daemonAttrSyncID      = 3 // u32
	daemonAttrSyncMaxLen  = 4 // u16
	daemonAttrMcastGroup  = 5 // IPv4 address, network order
	daemonAttrMcastGroup6 = 6 // IPv6 address
	daemonAttrMcastPort   = 7 // u16, host order
	daemonAttrMcastTTL    = 8 // u8
)

// Stats attributes (IPVS_STATS_ATTR_*).
const (
	statsAttrConns    = 1
	statsAttrInPkts   = 2
	statsAttrOutPkts  = 3
	statsAttrInBytes  = 4
	statsAttrOutBytes = 5
	statsAttrCPS      = 6
	statsAttrInPPS    = 7
	statsAttrOutPPS   = 8
	statsAttrInBPS    = 9
	statsAttrOutBPS   = 10
	statsAttrPad      = 11
)

// Info attributes (IPVS_INFO_ATTR_*).
const (
	infoAttrVersion     = 1 // u32, IP_VS_VERSION_CODE
	infoAttrConnTabSize = 2 // u32
)

// Address families (AF_INET, AF_INET6) as the kernel encodes them.
const (
	AFInet  uint16 = 2
	AFInet6 uint16 = 10
)

// Service flags (IP_VS_SVC_F_*).
const (
	SvcFlagPersistent uint32 = 0x0001
	SvcFlagHashed     uint32 = 0x0002 // kernel-internal, set on every live service
	SvcFlagOnePacket  uint32 = 0x0004
	SvcFlagSched1     uint32 = 0x0008 // sh-fallback, mh-fallback
	SvcFlagSched2     uint32 = 0x0010 // sh-port, mh-port
	SvcFlagSched3     uint32 = 0x0020
)

// Forwarding methods (IP_VS_CONN_F_*, the IP_VS_CONN_F_FWD_MASK bits).
const (
	FwdMasq      uint32 = 0x0 // NAT
	FwdLocalNode uint32 = 0x1
	FwdTunnel    uint32 = 0x2
	FwdDirect    uint32 = 0x3 // direct routing
	FwdBypass    uint32 = 0x4
	FwdMask      uint32 = 0x7
)

// Tunnel types (IP_VS_CONN_F_TUNNEL_TYPE_*) and encapsulation flags
// (IP_VS_TUNNEL_ENCAP_FLAG_*).
const (
	TunIPIP uint8 = 0
	TunGUE  uint8 = 1
	TunGRE  uint8 = 2

	TunFlagCsum    uint16 = 1 << 0
	TunFlagRemCsum uint16 = 1 << 1
)

// Sync daemon states (IP_VS_STATE_*).
const (
	StateMaster uint32 = 1
	StateBackup uint32 = 2
)

// Name length limits of the kernel (IP_VS_SCHEDNAME_MAXLEN, IP_VS_PENAME_MAXLEN,
// IP_VS_IFNAME_MAXLEN), including the NUL.
const (
	schedNameMax = 16
	peNameMax    = 16
	ifNameMax    = 16
)
