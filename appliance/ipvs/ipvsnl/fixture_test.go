package ipvsnl

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// Byte fixtures derived by hand from include/uapi/linux/ip_vs.h and the netlink
// attribute layout (struct nlattr: u16 length including the 4-byte header, u16
// type, data padded to 4 bytes). Integers are little endian (the test hosts');
// ports, IPv4 netmasks and IPv4 multicast groups are big endian. One attribute per
// line; "--" starts a comment.

// hx decodes fixture text to bytes.
func hx(t *testing.T, pieces ...string) []byte {
	t.Helper()
	var b strings.Builder
	for _, p := range pieces {
		for _, line := range strings.Split(p, "\n") {
			line, _, _ = strings.Cut(line, "--")
			b.WriteString(strings.Join(strings.Fields(line), ""))
		}
	}
	out, err := hex.DecodeString(b.String())
	if err != nil {
		t.Fatalf("bad fixture: %v", err)
	}
	return out
}

func needLittleEndian(t *testing.T) {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("fixtures are written for little-endian hosts")
	}
}

// The identifying attributes of service TCP 192.0.2.100:80 (44 bytes).
const fxKeyTCP4 = `
06 00 01 00  02 00 00 00                    -- SVC_ATTR_AF = AF_INET (2)
06 00 02 00  06 00 00 00                    -- SVC_ATTR_PROTOCOL = 6
14 00 03 00  c0 00 02 64  00 00 00 00  00 00 00 00  00 00 00 00 -- SVC_ATTR_ADDR = 192.0.2.100 (union nf_inet_addr)
06 00 04 00  00 50 00 00                    -- SVC_ATTR_PORT = 80 (be16)
`

// NEW_SERVICE TCP 192.0.2.100:80 wrr, persistent 300 s, netmask /24.
const fxNewServiceV4 = `
01 01 00 00                                 -- genl: cmd NEW_SERVICE (1), version 1
54 00 01 00                                 -- CMD_ATTR_SERVICE, 84 bytes
` + fxKeyTCP4 + `
08 00 06 00  77 72 72 00                    -- SVC_ATTR_SCHED_NAME = "wrr\0"
0c 00 07 00  01 00 00 00  ff ff ff ff       -- SVC_ATTR_FLAGS = {flags PERSISTENT, mask ~0}
08 00 08 00  2c 01 00 00                    -- SVC_ATTR_TIMEOUT = 300
08 00 09 00  ff ff ff 00                    -- SVC_ATTR_NETMASK = 255.255.255.0 (be32)
`

// SET_SERVICE UDP [2001:db8::1]:53 sh with sh-fallback|sh-port, persistent 60 s
// per /64, persistence engine "sip".
const fxSetServiceV6 = `
02 01 00 00                                 -- genl: cmd SET_SERVICE (2), version 1
5c 00 01 00                                 -- CMD_ATTR_SERVICE, 92 bytes
06 00 01 00  0a 00 00 00                    -- SVC_ATTR_AF = AF_INET6 (10)
06 00 02 00  11 00 00 00                    -- SVC_ATTR_PROTOCOL = 17
14 00 03 00  20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 01 -- SVC_ATTR_ADDR = 2001:db8::1
06 00 04 00  00 35 00 00                    -- SVC_ATTR_PORT = 53
07 00 06 00  73 68 00 00                    -- SVC_ATTR_SCHED_NAME = "sh\0" (+1 pad)
08 00 0b 00  73 69 70 00                    -- SVC_ATTR_PE_NAME = "sip\0"
0c 00 07 00  19 00 00 00  ff ff ff ff       -- SVC_ATTR_FLAGS = PERSISTENT|SCHED1|SCHED2, mask ~0
08 00 08 00  3c 00 00 00                    -- SVC_ATTR_TIMEOUT = 60
08 00 09 00  40 00 00 00                    -- SVC_ATTR_NETMASK = 64 (IPv6: prefix length, u32)
`

// DEL_SERVICE fwmark 42 (IPv6).
const fxDelServiceMark = `
03 01 00 00                                 -- genl: cmd DEL_SERVICE (3)
14 00 01 00                                 -- CMD_ATTR_SERVICE, 20 bytes
06 00 01 00  0a 00 00 00                    -- SVC_ATTR_AF = AF_INET6
08 00 05 00  2a 00 00 00                    -- SVC_ATTR_FWMARK = 42
`

// NEW_DEST [2001:db8::5]:443 to TCP 192.0.2.100:80: tunnel (GUE, port 6080, csum),
// weight 7, thresholds 100/50 -- a mixed-family destination.
const fxNewDestGUE = `
05 01 00 00                                 -- genl: cmd NEW_DEST (5)
30 00 01 00                                 -- CMD_ATTR_SERVICE, 48 bytes
` + fxKeyTCP4 + `
60 00 02 00                                 -- CMD_ATTR_DEST, 96 bytes
06 00 0b 00  0a 00 00 00                    -- DEST_ATTR_ADDR_FAMILY = AF_INET6
14 00 01 00  20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 05 -- DEST_ATTR_ADDR = 2001:db8::5
06 00 02 00  01 bb 00 00                    -- DEST_ATTR_PORT = 443
08 00 03 00  02 00 00 00                    -- DEST_ATTR_FWD_METHOD = TUNNEL
08 00 04 00  07 00 00 00                    -- DEST_ATTR_WEIGHT = 7
08 00 05 00  64 00 00 00                    -- DEST_ATTR_U_THRESH = 100
08 00 06 00  32 00 00 00                    -- DEST_ATTR_L_THRESH = 50
05 00 0d 00  01 00 00 00                    -- DEST_ATTR_TUN_TYPE = GUE (u8)
06 00 0e 00  17 c0 00 00                    -- DEST_ATTR_TUN_PORT = 6080 (be16)
06 00 0f 00  01 00 00 00                    -- DEST_ATTR_TUN_FLAGS = CSUM
`

// SET_DEST 198.51.100.11:8080 of TCP 192.0.2.100:80: NAT, weight 0 (draining).
const fxSetDestNAT = `
06 01 00 00                                 -- genl: cmd SET_DEST (6)
30 00 01 00                                 -- CMD_ATTR_SERVICE, 48 bytes
` + fxKeyTCP4 + `
48 00 02 00                                 -- CMD_ATTR_DEST, 72 bytes
06 00 0b 00  02 00 00 00                    -- DEST_ATTR_ADDR_FAMILY = AF_INET
14 00 01 00  c6 33 64 0b  00 00 00 00  00 00 00 00  00 00 00 00 -- DEST_ATTR_ADDR = 198.51.100.11
06 00 02 00  1f 90 00 00                    -- DEST_ATTR_PORT = 8080
08 00 03 00  00 00 00 00                    -- DEST_ATTR_FWD_METHOD = MASQ
08 00 04 00  00 00 00 00                    -- DEST_ATTR_WEIGHT = 0
08 00 05 00  00 00 00 00                    -- DEST_ATTR_U_THRESH = 0
08 00 06 00  00 00 00 00                    -- DEST_ATTR_L_THRESH = 0
`

// DEL_DEST 198.51.100.11:80 of fwmark 42 (IPv4).
const fxDelDestMark = `
07 01 00 00                                 -- genl: cmd DEL_DEST (7)
14 00 01 00                                 -- CMD_ATTR_SERVICE, 20 bytes
06 00 01 00  02 00 00 00                    -- SVC_ATTR_AF = AF_INET
08 00 05 00  2a 00 00 00                    -- SVC_ATTR_FWMARK = 42
28 00 02 00                                 -- CMD_ATTR_DEST, 40 bytes
06 00 0b 00  02 00 00 00                    -- DEST_ATTR_ADDR_FAMILY = AF_INET
14 00 01 00  c6 33 64 0b  00 00 00 00  00 00 00 00  00 00 00 00 -- DEST_ATTR_ADDR = 198.51.100.11
06 00 02 00  00 50 00 00                    -- DEST_ATTR_PORT = 80
`

// CMD_ATTR_DAEMON of NEW_DAEMON: backup on eth1, sync id 7, group 224.0.0.81, port
// 8848, ttl 1.
const fxNewDaemon = `
38 00 03 00                                 -- CMD_ATTR_DAEMON, 56 bytes
08 00 01 00  02 00 00 00                    -- DAEMON_ATTR_STATE = BACKUP
09 00 02 00  65 74 68 31  00 00 00 00       -- DAEMON_ATTR_MCAST_IFN = "eth1\0" (+3 pad)
08 00 03 00  07 00 00 00                    -- DAEMON_ATTR_SYNC_ID = 7
08 00 05 00  e0 00 00 51                    -- DAEMON_ATTR_MCAST_GROUP = 224.0.0.81 (network order)
06 00 07 00  90 22 00 00                    -- DAEMON_ATTR_MCAST_PORT = 8848 (host order u16)
05 00 08 00  01 00 00 00                    -- DAEMON_ATTR_MCAST_TTL = 1
`

// SET_CONFIG attributes: tcp 900, tcp_fin 120, udp 300.
const fxTimeouts = `
08 00 04 00  84 03 00 00                    -- CMD_ATTR_TIMEOUT_TCP = 900
08 00 05 00  78 00 00 00                    -- CMD_ATTR_TIMEOUT_TCP_FIN = 120
08 00 06 00  2c 01 00 00                    -- CMD_ATTR_TIMEOUT_UDP = 300
`

// Kernel replies, attributes in the order ip_vs_genl_fill_* writes them.

// 32-bit stats: conns 5, inpkts 30, outpkts 20, inbytes 1800, outbytes 4000, cps 1,
// inpps 2, outpps 3, inbps 100, outbps 200 (88 bytes).
const fxStats32 = `
08 00 01 00  05 00 00 00                    -- STATS_ATTR_CONNS (u32)
08 00 02 00  1e 00 00 00                    -- STATS_ATTR_INPKTS
08 00 03 00  14 00 00 00                    -- STATS_ATTR_OUTPKTS
0c 00 04 00  08 07 00 00  00 00 00 00       -- STATS_ATTR_INBYTES (u64) 1800
0c 00 05 00  a0 0f 00 00  00 00 00 00       -- STATS_ATTR_OUTBYTES 4000
08 00 06 00  01 00 00 00                    -- STATS_ATTR_CPS
08 00 07 00  02 00 00 00                    -- STATS_ATTR_INPPS
08 00 08 00  03 00 00 00                    -- STATS_ATTR_OUTPPS
08 00 09 00  64 00 00 00                    -- STATS_ATTR_INBPS
08 00 0a 00  c8 00 00 00                    -- STATS_ATTR_OUTBPS
`

// 64-bit stats: as fxStats32 but conns 2^32+5 (120 bytes).
const fxStats64 = `
0c 00 01 00  05 00 00 00  01 00 00 00       -- STATS_ATTR_CONNS (u64) 4294967301
0c 00 02 00  1e 00 00 00  00 00 00 00
0c 00 03 00  14 00 00 00  00 00 00 00
0c 00 04 00  08 07 00 00  00 00 00 00
0c 00 05 00  a0 0f 00 00  00 00 00 00
0c 00 06 00  01 00 00 00  00 00 00 00
0c 00 07 00  02 00 00 00  00 00 00 00
0c 00 08 00  03 00 00 00  00 00 00 00
0c 00 09 00  64 00 00 00  00 00 00 00
0c 00 0a 00  c8 00 00 00  00 00 00 00
`

// The service of a GET_SERVICE reply (inside CMD_ATTR_SERVICE): TCP
// 192.0.2.100:80 wrr, flags PERSISTENT|HASHED, timeout 300, netmask /24.
const fxReplyServiceHead = fxKeyTCP4 + `
08 00 06 00  77 72 72 00                    -- SVC_ATTR_SCHED_NAME = "wrr"
0c 00 07 00  03 00 00 00  ff ff ff ff       -- SVC_ATTR_FLAGS = PERSISTENT|HASHED, mask ~0
08 00 08 00  2c 01 00 00                    -- SVC_ATTR_TIMEOUT = 300
08 00 09 00  ff ff ff 00                    -- SVC_ATTR_NETMASK = 255.255.255.0
`

// The destination of a GET_DEST reply (inside CMD_ATTR_DEST): 198.51.100.11:8080
// route (DR), weight 3, thresholds 10/5, active 4, inactive 6, persistent 2.
const fxReplyDestHead = `
14 00 01 00  c6 33 64 0b  00 00 00 00  00 00 00 00  00 00 00 00 -- DEST_ATTR_ADDR
06 00 02 00  1f 90 00 00                    -- DEST_ATTR_PORT = 8080
08 00 03 00  03 00 00 00                    -- DEST_ATTR_FWD_METHOD = DROUTE
08 00 04 00  03 00 00 00                    -- DEST_ATTR_WEIGHT = 3
05 00 0d 00  00 00 00 00                    -- DEST_ATTR_TUN_TYPE = IPIP
06 00 0e 00  00 00 00 00                    -- DEST_ATTR_TUN_PORT = 0
06 00 0f 00  00 00 00 00                    -- DEST_ATTR_TUN_FLAGS = 0
08 00 05 00  0a 00 00 00                    -- DEST_ATTR_U_THRESH = 10
08 00 06 00  05 00 00 00                    -- DEST_ATTR_L_THRESH = 5
08 00 07 00  04 00 00 00                    -- DEST_ATTR_ACTIVE_CONNS = 4
08 00 08 00  06 00 00 00                    -- DEST_ATTR_INACT_CONNS = 6
08 00 09 00  02 00 00 00                    -- DEST_ATTR_PERSIST_CONNS = 2
06 00 0b 00  02 00 00 00                    -- DEST_ATTR_ADDR_FAMILY = AF_INET
`

// The daemon of a GET_DAEMON reply (inside CMD_ATTR_DAEMON): master on eth0, sync
// id 3, maxlen 1472, port 8848, ttl 1, group 224.0.0.81.
const fxReplyDaemon = `
08 00 01 00  01 00 00 00                    -- DAEMON_ATTR_STATE = MASTER
09 00 02 00  65 74 68 30  00 00 00 00       -- DAEMON_ATTR_MCAST_IFN = "eth0"
08 00 03 00  03 00 00 00                    -- DAEMON_ATTR_SYNC_ID = 3
06 00 04 00  c0 05 00 00                    -- DAEMON_ATTR_SYNC_MAXLEN = 1472
06 00 07 00  90 22 00 00                    -- DAEMON_ATTR_MCAST_PORT = 8848
05 00 08 00  01 00 00 00                    -- DAEMON_ATTR_MCAST_TTL = 1
08 00 05 00  e0 00 00 51                    -- DAEMON_ATTR_MCAST_GROUP = 224.0.0.81
`

// GET_INFO reply attributes: version 1.2.1, connection table size 4096.
const fxReplyInfo = `
08 00 01 00  01 02 01 00                    -- INFO_ATTR_VERSION = 0x010201
08 00 02 00  00 10 00 00                    -- INFO_ATTR_CONN_TAB_SIZE = 4096
`
