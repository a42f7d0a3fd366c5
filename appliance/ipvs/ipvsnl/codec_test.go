package ipvsnl

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/mdlayher/genetlink"
)

var (
	vip4 = netip.MustParseAddr("192.0.2.100")
	vip6 = netip.MustParseAddr("2001:db8::1")
	rs4  = netip.MustParseAddr("198.51.100.11")
	rs6  = netip.MustParseAddr("2001:db8::5")

	tcpKey = Service{Family: AFInet, Protocol: 6, Addr: vip4, Port: 80}
)

// encodeRequest returns the generic netlink message (header and attributes) of a
// write request.
func encodeRequest(r Request) (genetlink.Message, error) {
	var a abuf
	cmd, err := appendRequest(&a, r)
	if err != nil {
		return genetlink.Message{}, err
	}
	return message(cmd, a), nil
}

func message(cmd Command, data []byte) genetlink.Message {
	return genetlink.Message{Header: genetlink.Header{Command: uint8(cmd), Version: familyVersion}, Data: data}
}

func dump(b []byte) string {
	var s strings.Builder
	for len(b) > 0 {
		n := min(16, len(b))
		s.WriteString(hex.EncodeToString(b[:n]) + "\n")
		b = b[n:]
	}
	return s.String()
}

func wantBytes(t *testing.T, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("bytes differ\ngot:\n%swant:\n%s", dump(got), dump(want))
	}
}

func encodeReq(t *testing.T, r Request) []byte {
	t.Helper()
	gm, err := encodeRequest(r)
	if err != nil {
		t.Fatalf("encode %s: %v", r, err)
	}
	b, err := gm.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeRequests(t *testing.T) {
	needLittleEndian(t)
	cases := []struct {
		name string
		req  Request
		want string
	}{
		{"new service ipv4 persistent", Request{Cmd: CmdNewService, Service: Service{
			Family: AFInet, Protocol: 6, Addr: vip4, Port: 80, Scheduler: "wrr",
			Flags: SvcFlagPersistent | SvcFlagHashed, Timeout: 300, Netmask: MaskFromPrefix(AFInet, 24),
		}}, fxNewServiceV4},
		{"set service ipv6 sh flags pe", Request{Cmd: CmdSetService, Service: Service{
			Family: AFInet6, Protocol: 17, Addr: vip6, Port: 53, Scheduler: "sh", PE: "sip",
			Flags: SvcFlagPersistent | SvcFlagSched1 | SvcFlagSched2, Timeout: 60, Netmask: 64,
		}}, fxSetServiceV6},
		{"delete fwmark service sends only the key", Request{Cmd: CmdDelService, Service: Service{
			Family: AFInet6, FWMark: 42, Scheduler: "rr", Timeout: 9,
		}}, fxDelServiceMark},
		{"new mixed-family gue destination", Request{Cmd: CmdNewDest, Service: Service{
			Family: AFInet, Protocol: 6, Addr: vip4, Port: 80, Scheduler: "ignored for dest commands",
		}, Dest: Destination{
			Addr: rs6, Port: 443, FwdMethod: FwdTunnel, Weight: 7, UThreshold: 100, LThreshold: 50,
			TunType: TunGUE, TunPort: 6080, TunFlags: TunFlagCsum,
		}}, fxNewDestGUE},
		{"set nat destination weight 0", Request{Cmd: CmdSetDest, Service: tcpKey, Dest: Destination{
			Family: AFInet, Addr: rs4, Port: 8080, FwdMethod: FwdMasq,
		}}, fxSetDestNAT},
		{"delete destination of fwmark service", Request{Cmd: CmdDelDest, Service: Service{Family: AFInet, FWMark: 42}, Dest: Destination{
			Addr: rs4, Port: 80, FwdMethod: FwdDirect, Weight: 5,
		}}, fxDelDestMark},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantBytes(t, encodeReq(t, c.req), hx(t, c.want))
		})
	}
}

func TestEncodeDaemonAndTimeouts(t *testing.T) {
	needLittleEndian(t)
	b, err := encodeDaemon(Daemon{State: StateBackup, Interface: "eth1", SyncID: 7,
		Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	wantBytes(t, b, hx(t, fxNewDaemon)[4:]) // without the CMD_ATTR_DAEMON header
	b, err = encodeDaemon(Daemon{State: StateMaster, Interface: "eth0", SyncID: 3}, false)
	if err != nil {
		t.Fatal(err)
	}
	wantBytes(t, b, hx(t, "08 00 01 00 01 00 00 00")) // DEL_DAEMON needs only the state
	b, err = encodeTimeouts(Timeouts{TCP: 900, TCPFin: 120, UDP: 300})
	if err != nil {
		t.Fatal(err)
	}
	wantBytes(t, b, hx(t, fxTimeouts))
	b, err = encodeTimeouts(Timeouts{UDP: 300})
	if err != nil {
		t.Fatal(err)
	}
	wantBytes(t, b, hx(t, "08 00 06 00 2c 01 00 00")) // zero timeouts are left alone
}

func TestEncodeRejects(t *testing.T) {
	long := strings.Repeat("x", 16)
	bad := []Request{
		{Cmd: CmdNewService, Service: Service{Family: 3, Protocol: 6, Addr: vip4, Port: 80, Scheduler: "rr"}},
		{Cmd: CmdNewService, Service: Service{Family: AFInet6, Protocol: 6, Addr: vip4, Port: 80, Scheduler: "rr"}},
		{Cmd: CmdNewService, Service: Service{Family: AFInet, Protocol: 6, Port: 80, Scheduler: "rr"}},
		{Cmd: CmdNewService, Service: Service{Family: AFInet, Protocol: 6, Addr: vip4, Port: 80}},
		{Cmd: CmdNewService, Service: Service{Family: AFInet, Protocol: 6, Addr: vip4, Port: 80, Scheduler: long}},
		{Cmd: CmdNewDest, Service: tcpKey, Dest: Destination{Family: AFInet, Addr: rs6, Port: 80}},
		{Cmd: CmdNewDest, Service: tcpKey, Dest: Destination{Addr: rs4, Port: 80, Weight: -1}},
		{Cmd: CmdGetInfo},
	}
	for _, r := range bad {
		if _, err := encodeRequest(r); err == nil {
			t.Errorf("%s: encoded without error", r)
		}
	}
	if _, err := encodeDaemon(Daemon{State: 3, Interface: "eth0"}, true); err == nil {
		t.Error("daemon state 3 encoded")
	}
	if _, err := encodeDaemon(Daemon{State: StateMaster, Interface: long}, true); err == nil {
		t.Error("16-character interface name encoded")
	}
}

func TestDecodeService(t *testing.T) {
	needLittleEndian(t)
	want := Service{Family: AFInet, Protocol: 6, Addr: vip4, Port: 80, Scheduler: "wrr",
		Flags: SvcFlagPersistent | SvcFlagHashed, Timeout: 300, Netmask: 0xffffff00}

	// A kernel without STATS64 (before 4.1): the 32-bit stats.
	got, err := decodeService(hx(t, fxReplyServiceHead, "5c 00 0a 00", fxStats32))
	if err != nil {
		t.Fatal(err)
	}
	want.Stats = Stats{Conns: 5, InPkts: 30, OutPkts: 20, InBytes: 1800, OutBytes: 4000, CPS: 1, InPPS: 2, OutPPS: 3, InBPS: 100, OutBPS: 200}
	if got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}

	// Both: STATS64 wins (conns above 2^32).
	got, err = decodeService(hx(t, fxReplyServiceHead, "5c 00 0a 00", fxStats32, "7c 00 0c 00", fxStats64))
	if err != nil {
		t.Fatal(err)
	}
	want.Stats.Conns = 1<<32 + 5
	if got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if bits, ok := PrefixFromMask(got.Family, got.Netmask); bits != 24 || !ok {
		t.Errorf("prefix of %#x = %d %v", got.Netmask, bits, ok)
	}

	// A request payload decodes too (the same layout), with PE and IPv6 netmask.
	req := hx(t, fxSetServiceV6)[8:] // skip genl header and CMD_ATTR_SERVICE header
	got, err = decodeService(req)
	if err != nil {
		t.Fatal(err)
	}
	if got.Family != AFInet6 || got.Addr != vip6 || got.Port != 53 || got.PE != "sip" || got.Scheduler != "sh" || got.Netmask != 64 || got.Flags != 0x19 {
		t.Fatalf("ipv6 service = %+v", got)
	}

	// Fwmark service: no address.
	got, err = decodeService(hx(t, fxDelServiceMark)[8:])
	if err != nil || got.FWMark != 42 || got.Addr.IsValid() || got.Family != AFInet6 {
		t.Fatalf("fwmark service = %+v, %v", got, err)
	}
}

func TestDecodeDestination(t *testing.T) {
	needLittleEndian(t)
	got, err := decodeDest(hx(t, fxReplyDestHead, "5c 00 0a 00", fxStats32, "7c 00 0c 00", fxStats64), AFInet)
	if err != nil {
		t.Fatal(err)
	}
	want := Destination{Family: AFInet, Addr: rs4, Port: 8080, FwdMethod: FwdDirect, Weight: 3,
		UThreshold: 10, LThreshold: 5, ActiveConns: 4, InactConns: 6, PersistConns: 2,
		Stats: Stats{Conns: 1<<32 + 5, InPkts: 30, OutPkts: 20, InBytes: 1800, OutBytes: 4000, CPS: 1, InPPS: 2, OutPPS: 3, InBPS: 100, OutBPS: 200}}
	if got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}

	// A mixed-family GUE destination (request layout) keeps its own family.
	req := hx(t, fxNewDestGUE)[4+48+4:]
	got, err = decodeDest(req, AFInet)
	if err != nil {
		t.Fatal(err)
	}
	if got.Family != AFInet6 || got.Addr != rs6 || got.TunType != TunGUE || got.TunPort != 6080 || got.TunFlags != TunFlagCsum || got.Weight != 7 {
		t.Fatalf("gue destination = %+v", got)
	}

	// Without DEST_ATTR_ADDR_FAMILY (old kernels) the service's family is used.
	old := hx(t, `
14 00 01 00  20 01 0d b8  00 00 00 00  00 00 00 00  00 00 00 05
06 00 02 00  00 50 00 00`)
	got, err = decodeDest(old, AFInet6)
	if err != nil || got.Addr != rs6 || got.Family != AFInet6 {
		t.Fatalf("old destination = %+v, %v", got, err)
	}
}

func TestDecodeDaemonInfoTimeouts(t *testing.T) {
	needLittleEndian(t)
	d, err := decodeDaemon(hx(t, fxReplyDaemon))
	if err != nil {
		t.Fatal(err)
	}
	want := Daemon{State: StateMaster, Interface: "eth0", SyncID: 3, MaxLen: 1472,
		Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}
	if d != want {
		t.Fatalf("daemon = %+v", d)
	}
	i, err := decodeInfo(hx(t, fxReplyInfo))
	if err != nil || i.Version != 0x010201 || i.ConnTabSize != 4096 || i.VersionString() != "1.2.1" {
		t.Fatalf("info = %+v (%s), %v", i, i.VersionString(), err)
	}
	to, err := decodeTimeouts(hx(t, fxTimeouts))
	if err != nil || to != (Timeouts{900, 120, 300}) {
		t.Fatalf("timeouts = %+v, %v", to, err)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	needLittleEndian(t)
	bad := map[string][]byte{
		"truncated attribute": hx(t, "08 00 01 00 02 00"),
		"port of 4 bytes":     hx(t, "06 00 01 00 02 00 00 00", "08 00 04 00 00 50 00 00"),
		"unknown family":      hx(t, "06 00 01 00 07 00 00 00"),
		"short address":       hx(t, "06 00 01 00 0a 00 00 00", "08 00 03 00 c0 00 02 64"),
		"short flags":         hx(t, "06 00 01 00 02 00 00 00", "08 00 07 00 01 00 00 00"),
	}
	for name, b := range bad {
		if s, err := decodeService(b); err == nil {
			t.Errorf("%s: decoded %+v", name, s)
		}
	}
	if d, err := decodeDest(hx(t, "06 00 02 00 00 50 00 00"), AFInet); err == nil {
		t.Errorf("destination without address decoded: %+v", d)
	}
}

func TestNetmaskConversions(t *testing.T) {
	for _, bits := range []int{0, 1, 8, 24, 31, 32} {
		m := MaskFromPrefix(AFInet, bits)
		if got, ok := PrefixFromMask(AFInet, m); got != bits || !ok {
			t.Errorf("/%d -> %#x -> /%d %v", bits, m, got, ok)
		}
	}
	if MaskFromPrefix(AFInet, 24) != 0xffffff00 || MaskFromPrefix(AFInet6, 64) != 64 {
		t.Error("mask values")
	}
	if _, ok := PrefixFromMask(AFInet, 0xff00ff00); ok {
		t.Error("non-contiguous mask accepted")
	}
	if _, ok := PrefixFromMask(AFInet6, 129); ok {
		t.Error("/129 accepted")
	}
}
