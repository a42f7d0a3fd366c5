package ipvsnl

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/mdlayher/netlink"
)

func TestParseDatagramAndErrors(t *testing.T) {
	needLittleEndian(t)
	// Two messages in one datagram: an acknowledgement of seq 7, and an error of seq 8
	// with NLM_F_CAPPED|NLM_F_ACK_TLVS and the extended ack message "bad thing".
	b := hx(t, `
24 00 00 00  02 00 00 00  07 00 00 00  00 00 00 00 -- nlmsghdr: len 36, NLMSG_ERROR, seq 7
00 00 00 00                                       -- error 0: acknowledgement
14 00 00 00  2a 00 05 00  07 00 00 00  00 00 00 00 -- the request's header
34 00 00 00  02 00 00 03  08 00 00 00  00 00 00 00 -- nlmsghdr: len 52, NLMSG_ERROR, flags CAPPED|ACK_TLVS, seq 8
ef ff ff ff                                       -- error -17: EEXIST
14 00 00 00  2a 00 05 00  08 00 00 00  00 00 00 00 -- the request's header (payload capped)
0e 00 01 00  62 61 64 20  74 68 69 6e  67 00 00 00 -- NLMSGERR_ATTR_MSG "bad thing"
`)
	msgs, err := parseDatagram(b, nil)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	if msgs[0].seq != 7 || msgs[0].typ != nlmsgError || errorOf(msgs[0]) != nil {
		t.Errorf("ack: %+v %v", msgs[0], errorOf(msgs[0]))
	}
	err = errorOf(msgs[1])
	if msgs[1].seq != 8 || !errors.Is(err, syscall.EEXIST) || err.Error() != "file exists (bad thing)" {
		t.Errorf("error: %+v %v", msgs[1], err)
	}
	if _, err := parseDatagram(b[:40], nil); err == nil {
		t.Error("truncated datagram parsed")
	}
	// A request as appendMessage writes it: header, generic netlink header, padding.
	got := appendMessage(nil, 0x2a, flagRequest|flagAck, 9, CmdGetInfo, []byte{1, 2, 3, 4, 5})
	want := hx(t, `
19 00 00 00  2a 00 05 00  09 00 00 00  00 00 00 00 -- len 25, family 0x2a, REQUEST|ACK, seq 9
0f 01 00 00                                       -- GET_INFO, version 1
01 02 03 04  05 00 00 00                          -- attributes, padded to 4`)
	wantBytes(t, got, want)
}

// The real socket path (rawWire) against the kernel's generic netlink controller,
// which every Linux kernel has: a request, a dump, a kernel error, and a pipelined
// window whose errors are matched to their requests. No root needed.
func TestRawWireWithNlctrl(t *testing.T) {
	nc, err := netlink.Dial(netlinkGeneric, nil)
	if err != nil {
		t.Skipf("no generic netlink socket: %v", err)
	}
	w, err := newRawWire(nc)
	if err != nil {
		t.Fatal(err)
	}
	const genlIDCtrl, ctrlCmdGetFamily, ctrlAttrFamilyID, ctrlAttrFamilyName = 0x10, 3, 1, 2
	c := newConn(w, genlIDCtrl, 4)
	defer c.Close()
	ctx := context.Background()
	name := func(s string) []byte {
		var a abuf
		a.str(ctrlAttrFamilyName, s)
		return a
	}
	familyID := func(b []byte) (id uint16, err error) {
		err = attrs(b, func(t uint16, v []byte) error {
			if t == ctrlAttrFamilyID {
				id = ne.Uint16(v)
			}
			return nil
		})
		return id, err
	}

	var id uint16
	if err := c.exec(ctx, ctrlCmdGetFamily, name("nlctrl"), 0, func(b []byte) (err error) { id, err = familyID(b); return err }); err != nil || id != genlIDCtrl {
		t.Fatalf("get nlctrl: id %#x, %v", id, err)
	}
	n := 0
	if err := c.exec(ctx, ctrlCmdGetFamily, nil, flagDump, func([]byte) error { n++; return nil }); err != nil || n < 2 {
		t.Fatalf("dump: %d families, %v", n, err)
	}
	if err := c.exec(ctx, ctrlCmdGetFamily, name("lvsbox-no-such"), 0, nil); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("unknown family: %v, want ENOENT", err)
	}
	names := []string{"nlctrl", "lvsbox-no-such1", "nlctrl", "lvsbox-no-such2", "lvsbox-no-such3", "nlctrl"}
	for _, ackEach := range []bool{false, true} {
		c.SetAckEach(ackEach)
		errs := c.pipeline(ctx, len(names), func(i int, a *abuf) (Command, error) {
			a.str(ctrlAttrFamilyName, names[i])
			return ctrlCmdGetFamily, nil
		})
		for i, err := range errs {
			if bad := names[i] != "nlctrl"; bad != errors.Is(err, syscall.ENOENT) || !bad && err != nil {
				t.Errorf("ack each %v: request %d (%s): %v", ackEach, i, names[i], err)
			}
		}
	}
	// The data replies of those requests were skipped; the socket is still in step.
	if err := c.exec(ctx, ctrlCmdGetFamily, name("nlctrl"), 0, func(b []byte) (err error) { id, err = familyID(b); return err }); err != nil || id != genlIDCtrl {
		t.Fatalf("after the windows: id %#x, %v", id, err)
	}
}
