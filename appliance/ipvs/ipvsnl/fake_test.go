package ipvsnl

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nlenc"
)

// fakeKernel is a wire that answers like the kernel's IPVS family: one
// datagram per acknowledgement, dumps as NLM_F_MULTI messages followed by a
// separate NLMSG_DONE, errors as NLMSG_ERROR with the request's sequence number.
type fakeKernel struct {
	family uint16
	noIPVS bool

	svcs     []*fakeSvc
	timeouts Timeouts
	daemons  []Daemon

	queue [][]netlink.Message // datagrams not yet received
	sends [][]netlink.Message // every datagram sent

	reverseAcks bool  // queue the datagrams of one sendmsg in reverse order
	recvBudget  int   // > 0: after this many datagrams Receive fails with failWith
	failWith    error // transport error
	received    int
}

type fakeSvc struct {
	s     Service
	dests []Destination
}

var fakeSchedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"}

func newFake() *fakeKernel { return &fakeKernel{family: 0x2a, timeouts: Timeouts{900, 120, 300}} }

// conn returns a Conn on the fake.
func (f *fakeKernel) conn(window int) *Conn { return newConn(f, f.family, window) }

func (f *fakeKernel) setDeadline(time.Time) {}
func (f *fakeKernel) close() error          { return nil }

func (f *fakeKernel) send(b []byte) error {
	parsed, err := parseDatagram(b, nil)
	if err != nil {
		return err
	}
	var msgs []netlink.Message
	for _, m := range parsed {
		msgs = append(msgs, netlink.Message{
			Header: netlink.Header{Type: netlink.HeaderType(m.typ), Flags: netlink.HeaderFlags(m.flags), Sequence: m.seq},
			Data:   slices.Clone(m.data),
		})
	}
	f.sends = append(f.sends, msgs)
	var out [][]netlink.Message
	for _, m := range msgs {
		out = append(out, f.handle(m)...)
	}
	if f.reverseAcks {
		slices.Reverse(out)
	}
	f.queue = append(f.queue, out...)
	return nil
}

func (f *fakeKernel) recv() ([]byte, error) {
	if f.recvBudget > 0 && f.received >= f.recvBudget {
		return nil, f.failWith
	}
	if len(f.queue) == 0 {
		return nil, errors.New("fake: receive would block (no reply queued)")
	}
	f.received++
	d := f.queue[0]
	f.queue = f.queue[1:]
	var b []byte
	for _, m := range d {
		m.Header.Length = uint32(16 + len(m.Data))
		mb, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b = append(b, mb...)
	}
	return b, nil
}

// reply builds a datagram answering req.
func reply(req netlink.Message, cmd Command, data []byte, flags netlink.HeaderFlags) netlink.Message {
	b, _ := message(cmd, data).MarshalBinary()
	return netlink.Message{Header: netlink.Header{Type: req.Header.Type, Flags: flags, Sequence: req.Header.Sequence, PID: req.Header.PID}, Data: b}
}

func errMsg(req netlink.Message, errno syscall.Errno) []netlink.Message {
	m := netlink.Message{Header: netlink.Header{Type: netlink.Error, Sequence: req.Header.Sequence, PID: req.Header.PID},
		Data: append(nlenc.Int32Bytes(-int32(errno)), req.Data...)}
	return []netlink.Message{m}
}

func done(req netlink.Message) []netlink.Message {
	return []netlink.Message{{Header: netlink.Header{Type: netlink.Done, Flags: netlink.Multi, Sequence: req.Header.Sequence, PID: req.Header.PID}, Data: nlenc.Int32Bytes(0)}}
}

// handle returns the datagrams answering one request.
func (f *fakeKernel) handle(req netlink.Message) [][]netlink.Message {
	var gm genetlink.Message
	if err := gm.UnmarshalBinary(req.Data); err != nil {
		return [][]netlink.Message{errMsg(req, syscall.EINVAL)}
	}
	if req.Header.Type == 0x10 { // GENL_ID_CTRL: CTRL_CMD_GETFAMILY
		if f.noIPVS {
			return [][]netlink.Message{errMsg(req, syscall.ENOENT)}
		}
		ae := netlink.NewAttributeEncoder()
		ae.Uint16(1, f.family) // CTRL_ATTR_FAMILY_ID
		ae.String(2, FamilyName)
		ae.Uint32(3, 1) // CTRL_ATTR_VERSION
		b, _ := ae.Encode()
		return [][]netlink.Message{{reply(req, 1, b, 0)}}
	}
	if req.Header.Type != netlink.HeaderType(f.family) {
		return [][]netlink.Message{errMsg(req, syscall.ENOENT)}
	}
	dump := req.Header.Flags&netlink.Dump == netlink.Dump
	replies, errno := f.ipvs(Command(gm.Header.Command), gm.Data, req, dump)
	var out [][]netlink.Message
	switch {
	case errno != 0:
		return [][]netlink.Message{errMsg(req, errno)}
	case dump:
		for i := range replies {
			replies[i].Header.Flags |= netlink.Multi
		}
		if len(replies) > 0 {
			out = append(out, replies)
		}
		return append(out, done(req))
	}
	if len(replies) > 0 {
		out = append(out, replies)
	}
	if req.Header.Flags&netlink.Acknowledge != 0 {
		out = append(out, errMsg(req, 0))
	}
	return out
}

func (f *fakeKernel) find(key Service) (int, *fakeSvc) {
	for i, s := range f.svcs {
		if s.s.Key() == key.Key() {
			return i, s
		}
	}
	return -1, nil
}

func findDest(s *fakeSvc, d Destination) int {
	return slices.IndexFunc(s.dests, func(x Destination) bool { return x.Addr == d.Addr && x.Port == d.Port })
}

func (f *fakeKernel) encodeSvcReply(req netlink.Message, s *fakeSvc) netlink.Message {
	var a abuf
	if err := a.nest(cmdAttrService, func() error { return appendService(&a, s.s, true) }); err != nil {
		panic(err)
	}
	return reply(req, CmdNewService, a, 0)
}

// ipvs executes one IPVS command on the fake table.
func (f *fakeKernel) ipvs(cmd Command, data []byte, req netlink.Message, dump bool) ([]netlink.Message, syscall.Errno) {
	top := map[uint16][]byte{}
	if err := attrs(data, func(t uint16, v []byte) error { top[t] = v; return nil }); err != nil {
		return nil, syscall.EINVAL
	}
	var svc Service
	var dst Destination
	if b, ok := top[cmdAttrService]; ok {
		s, err := decodeService(b)
		if err != nil {
			return nil, syscall.EINVAL
		}
		svc = s
	}
	if b, ok := top[cmdAttrDest]; ok {
		d, err := decodeDest(b, svc.Family)
		if err != nil {
			return nil, syscall.EINVAL
		}
		dst = d
	}
	i, cur := f.find(svc)
	switch cmd {
	case CmdGetInfo:
		var a abuf
		a.u32(infoAttrVersion, 0x010201)
		a.u32(infoAttrConnTabSize, 4096)
		return []netlink.Message{reply(req, CmdSetInfo, a, 0)}, 0
	case CmdGetConfig:
		var a abuf
		a.u32(cmdAttrTimeoutTCP, f.timeouts.TCP)
		a.u32(cmdAttrTimeoutTCPFin, f.timeouts.TCPFin)
		a.u32(cmdAttrTimeoutUDP, f.timeouts.UDP)
		return []netlink.Message{reply(req, CmdSetConfig, a, 0)}, 0
	case CmdSetConfig:
		t, err := decodeTimeouts(data)
		if err != nil {
			return nil, syscall.EINVAL
		}
		for _, p := range [][2]*uint32{{&f.timeouts.TCP, &t.TCP}, {&f.timeouts.TCPFin, &t.TCPFin}, {&f.timeouts.UDP, &t.UDP}} {
			if *p[1] != 0 {
				*p[0] = *p[1]
			}
		}
	case CmdGetDaemon:
		var out []netlink.Message
		for _, d := range f.daemons {
			var a abuf
			_ = a.nest(cmdAttrDaemon, func() error { return appendDaemon(&a, d, true) })
			out = append(out, reply(req, CmdNewDaemon, a, 0))
		}
		return out, 0
	case CmdNewDaemon, CmdDelDaemon:
		d, err := decodeDaemon(top[cmdAttrDaemon])
		if err != nil {
			return nil, syscall.EINVAL
		}
		k := slices.IndexFunc(f.daemons, func(x Daemon) bool { return x.State == d.State })
		switch {
		case cmd == CmdNewDaemon && k >= 0:
			return nil, syscall.EEXIST
		case cmd == CmdNewDaemon:
			f.daemons = append(f.daemons, d)
		case k < 0:
			return nil, syscall.ESRCH
		default:
			f.daemons = slices.Delete(f.daemons, k, k+1)
		}
	case CmdFlush:
		f.svcs = nil
	case CmdGetService:
		if dump {
			var out []netlink.Message
			for _, s := range f.svcs {
				out = append(out, f.encodeSvcReply(req, s))
			}
			return out, 0
		}
		if cur == nil {
			return nil, syscall.ESRCH
		}
		return []netlink.Message{f.encodeSvcReply(req, cur)}, 0
	case CmdGetDest:
		if cur == nil {
			return nil, 0 // the kernel dumps nothing for an unknown service
		}
		var out []netlink.Message
		for _, d := range cur.dests {
			var a abuf
			_ = a.nest(cmdAttrDest, func() error { return appendDest(&a, d, true) })
			out = append(out, reply(req, CmdNewDest, a, 0))
		}
		return out, 0
	case CmdNewService:
		if cur != nil {
			return nil, syscall.EEXIST
		}
		if !slices.Contains(fakeSchedulers, svc.Scheduler) {
			return nil, syscall.ENOENT
		}
		f.svcs = append(f.svcs, &fakeSvc{s: svc})
	case CmdSetService, CmdDelService, CmdNewDest, CmdSetDest, CmdDelDest:
		if cur == nil {
			return nil, syscall.ESRCH
		}
		k := findDest(cur, dst)
		switch {
		case cmd == CmdSetService:
			cur.s = svc
		case cmd == CmdDelService:
			f.svcs = slices.Delete(f.svcs, i, i+1)
		case cmd == CmdNewDest && k >= 0:
			return nil, syscall.EEXIST
		case cmd == CmdNewDest:
			cur.dests = append(cur.dests, dst)
		case k < 0:
			return nil, syscall.ENOENT
		case cmd == CmdSetDest:
			cur.dests[k] = dst
		default:
			cur.dests = slices.Delete(cur.dests, k, k+1)
		}
	default:
		panic(fmt.Sprintf("fake: command %s", cmd))
	}
	return nil, 0
}
