package ipvsnl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
)

func svcN(i int) Service {
	return Service{Family: AFInet, Protocol: 6, Addr: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), Port: 80,
		Scheduler: "wlc", Netmask: 0xffffffff}
}

func destN(i int) Destination {
	return Destination{Addr: netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}), Port: 8080, FwdMethod: FwdMasq, Weight: 1}
}

func mustConn(t *testing.T, f *fakeKernel, window int) *Conn {
	t.Helper()
	return f.conn(window)
}

// Family resolution goes through genetlink on the netlink.Conn (here nltest's).
func TestResolveFamilyWithNltest(t *testing.T) {
	for _, present := range []bool{true, false} {
		nc := nltest.Dial(func(reqs []netlink.Message) ([]netlink.Message, error) {
			req := reqs[0]
			var gm genetlink.Message
			if err := gm.UnmarshalBinary(req.Data); err != nil {
				return nil, err
			}
			if req.Header.Type != 0x10 || gm.Header.Command != 3 { // GENL_ID_CTRL, CTRL_CMD_GETFAMILY
				return nil, fmt.Errorf("unexpected request %+v %+v", req.Header, gm.Header)
			}
			if !present {
				return nltest.Error(int(syscall.ENOENT), reqs)
			}
			ae := netlink.NewAttributeEncoder()
			ae.Uint16(1, 0x33) // CTRL_ATTR_FAMILY_ID
			ae.String(2, FamilyName)
			b, _ := ae.Encode()
			return []netlink.Message{reply(req, 1, b, 0)}, nil
		})
		id, err := resolveFamily(nc)
		switch {
		case present && (err != nil || id != 0x33):
			t.Errorf("family id %#x, %v", id, err)
		case !present && !errors.Is(err, ErrNotAvailable):
			t.Errorf("without IPVS: %v, want ErrNotAvailable", err)
		}
	}
}

func TestInfo(t *testing.T) {
	f := newFake()
	c := mustConn(t, f, 0)
	i, err := c.Info(context.Background())
	if err != nil || i.VersionString() != "1.2.1" || i.ConnTabSize != 4096 {
		t.Fatalf("info %+v, %v", i, err)
	}
	req := f.sends[0][0]
	var gm genetlink.Message
	if err := gm.UnmarshalBinary(req.Data); err != nil {
		t.Fatal(err)
	}
	if req.Header.Flags != netlink.Request || req.Header.Type != netlink.HeaderType(f.family) ||
		Command(gm.Header.Command) != CmdGetInfo || gm.Header.Version != familyVersion || len(gm.Data) != 0 {
		t.Fatalf("request %+v %+v", req.Header, gm)
	}
}

func TestApplyPipelinesInWindows(t *testing.T) {
	for _, mode := range []struct {
		name    string
		ackEach bool
		reverse bool
	}{{"ack_last", false, false}, {"ack_each", true, false}, {"ack_each_reversed", true, true}} {
		t.Run(mode.name, func(t *testing.T) {
			f := newFake()
			f.reverseAcks = mode.reverse // with every write acknowledged, answers are matched by sequence, not position
			c := mustConn(t, f, 4)
			c.SetAckEach(mode.ackEach)
			f.sends = nil
			var reqs []Request
			for i := range 3 {
				reqs = append(reqs, Request{Cmd: CmdNewService, Service: svcN(i)})
				for j := range 2 {
					reqs = append(reqs, Request{Cmd: CmdNewDest, Service: svcN(i), Dest: destN(i*10 + j)})
				}
			}
			reqs = append(reqs, Request{Cmd: CmdNewService, Service: svcN(0)}) // EEXIST at index 9
			errs := c.Apply(context.Background(), reqs)
			for i, err := range errs {
				if i == 9 {
					if !errors.Is(err, syscall.EEXIST) {
						t.Errorf("request 9: %v, want EEXIST", err)
					}
				} else if err != nil {
					t.Errorf("request %d (%s): %v", i, reqs[i], err)
				}
			}
			var sizes []int
			for _, s := range f.sends {
				sizes = append(sizes, len(s))
				for k, m := range s {
					want := netlink.Request
					if mode.ackEach || k == len(s)-1 {
						want |= netlink.Acknowledge
					}
					if m.Header.Flags != want || m.Header.Type != netlink.HeaderType(f.family) {
						t.Errorf("message %d of %d: header %+v, want flags %s", k, len(s), m.Header, want)
					}
				}
			}
			if fmt.Sprint(sizes) != "[4 4 2]" {
				t.Errorf("sendmsg sizes %v, want [4 4 2]: a window of 4 per sendmsg", sizes)
			}
			if len(f.svcs) != 3 || len(f.svcs[2].dests) != 2 {
				t.Errorf("fake table: %d services", len(f.svcs))
			}
			if len(f.queue) != 0 {
				t.Errorf("%d answers left unread", len(f.queue))
			}
		})
	}
}

func TestApplyReportsErrorsPerRequest(t *testing.T) {
	f := newFake()
	c := mustConn(t, f, 0)
	bogus := svcN(3)
	bogus.Scheduler = "bogus"
	reqs := []Request{
		{Cmd: CmdNewService, Service: svcN(1)},                           // ok
		{Cmd: CmdNewService, Service: svcN(1)},                           // EEXIST
		{Cmd: CmdNewDest, Service: svcN(2), Dest: destN(1)},              // ESRCH: no service
		{Cmd: CmdNewService, Service: bogus},                             // ENOENT: no such scheduler
		{Cmd: CmdNewDest, Service: svcN(1), Dest: destN(1)},              // ok
		{Cmd: CmdNewDest, Service: svcN(1), Dest: Destination{Port: 80}}, // not encodable: not sent
		{Cmd: CmdDelDest, Service: svcN(1), Dest: destN(7)},              // ENOENT
		{Cmd: CmdSetService, Service: svcN(1)},                           // ok
	}
	errs := c.Apply(context.Background(), reqs)
	want := []error{nil, syscall.EEXIST, syscall.ESRCH, syscall.ENOENT, nil, nil, syscall.ENOENT, nil}
	for i, err := range errs {
		switch {
		case i == 5:
			if !errors.Is(err, ErrNotSent) || !strings.Contains(err.Error(), "encode") {
				t.Errorf("request 5: %v, want an encode error", err)
			}
		case want[i] == nil && err != nil, want[i] != nil && !errors.Is(err, want[i]):
			t.Errorf("request %d (%s): %v, want %v", i, reqs[i], err, want[i])
		}
	}
	if n := len(f.sends[len(f.sends)-1]); n != 7 {
		t.Errorf("sent %d messages, want 7 (the bad request is not sent)", n)
	}
	if _, s := f.find(svcN(1)); s == nil || len(s.dests) != 1 {
		t.Errorf("service 1 not applied with its destination")
	}
}

func TestApplyTransportFailureBreaksConn(t *testing.T) {
	f := newFake()
	c := mustConn(t, f, 3)
	f.svcs = []*fakeSvc{{s: svcN(0)}}
	f.recvBudget = f.received + 1 // the error of request 0 arrives, then the socket fails
	f.failWith = syscall.ENOBUFS
	var reqs []Request
	for i := range 5 {
		reqs = append(reqs, Request{Cmd: CmdNewService, Service: svcN(i)})
	}
	errs := c.Apply(context.Background(), reqs)
	if !errors.Is(errs[0], syscall.EEXIST) {
		t.Fatalf("request 0: %v, want EEXIST", errs[0])
	}
	for i := 1; i < 3; i++ {
		if !errors.Is(errs[i], syscall.ENOBUFS) || errors.Is(errs[i], ErrNotSent) || !strings.Contains(errs[i].Error(), "no acknowledgement") {
			t.Errorf("request %d: %v", i, errs[i])
		}
	}
	for i := 3; i < 5; i++ {
		if !errors.Is(errs[i], syscall.ENOBUFS) || !errors.Is(errs[i], ErrNotSent) {
			t.Errorf("request %d: %v", i, errs[i])
		}
	}
	if len(f.sends) != 1 {
		t.Errorf("%d sendmsg calls, want the second window not sent", len(f.sends))
	}
	if c.Err() == nil {
		t.Error("Err() = nil after a transport failure")
	}
	if _, err := c.Info(context.Background()); !errors.Is(err, ErrBroken) {
		t.Errorf("after a transport failure: %v, want ErrBroken", err)
	}
	if errs := c.Apply(context.Background(), reqs[:1]); !errors.Is(errs[0], ErrBroken) {
		t.Errorf("apply after a transport failure: %v", errs[0])
	}
}

func TestApplyCancelled(t *testing.T) {
	f := newFake()
	c := mustConn(t, f, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sends := len(f.sends)
	errs := c.Apply(ctx, []Request{{Cmd: CmdNewService, Service: svcN(1)}})
	if !errors.Is(errs[0], context.Canceled) || !errors.Is(errs[0], ErrNotSent) || len(f.sends) != sends {
		t.Fatalf("cancelled apply: %v, %d sends", errs[0], len(f.sends)-sends)
	}
}

func TestDumps(t *testing.T) {
	f := newFake()
	c := mustConn(t, f, 0)
	ctx := context.Background()
	if svcs, err := c.Services(ctx); err != nil || len(svcs) != 0 {
		t.Fatalf("empty table: %v %v", svcs, err)
	}
	mark := Service{Family: AFInet6, FWMark: 7, Scheduler: "mh", Flags: SvcFlagSched1 | SvcFlagSched2, Netmask: 128}
	f.svcs = []*fakeSvc{
		{s: svcN(1), dests: []Destination{destN(1), destN(2)}},
		{s: mark, dests: []Destination{{Family: AFInet6, Addr: rs6, Port: 80, FwdMethod: FwdDirect, Weight: 2}}},
		{s: svcN(2)},
	}
	svcs, err := c.Services(ctx)
	if err != nil || len(svcs) != 3 {
		t.Fatalf("services: %v %v", svcs, err)
	}
	if svcs[1] != mark || svcs[0] != svcN(1) {
		t.Errorf("services = %+v", svcs)
	}
	last := f.sends[len(f.sends)-1][0]
	if last.Header.Flags != netlink.Request|netlink.Dump {
		t.Errorf("dump flags %s", last.Header.Flags)
	}
	d, err := c.Destinations(ctx, svcs[1])
	if err != nil || len(d) != 1 || d[0].Addr != rs6 || d[0].Family != AFInet6 || d[0].Weight != 2 {
		t.Fatalf("destinations of %s: %+v %v", svcs[1], d, err)
	}
	d, err = c.Destinations(ctx, svcs[0])
	if err != nil || len(d) != 2 {
		t.Fatalf("destinations of %s: %+v %v", svcs[0], d, err)
	}
	if d, err := c.Destinations(ctx, svcs[2]); err != nil || len(d) != 0 {
		t.Fatalf("destinations of %s: %+v %v", svcs[2], d, err)
	}
	one, err := c.Service(ctx, mark.Key())
	if err != nil || one != mark {
		t.Fatalf("service %s: %+v %v", mark, one, err)
	}
	if _, err := c.Service(ctx, svcN(9)); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("missing service: %v, want ESRCH", err)
	}
	if _, err := c.Services(ctx); err != nil { // a kernel error keeps the socket in step
		t.Fatalf("after ESRCH: %v", err)
	}
}

func TestTimeoutsDaemonsFlush(t *testing.T) {
	f := newFake()
	c := mustConn(t, f, 0)
	ctx := context.Background()
	if err := c.SetTimeouts(ctx, Timeouts{TCP: 901, UDP: 301}); err != nil {
		t.Fatal(err)
	}
	if to, err := c.Timeouts(ctx); err != nil || to != (Timeouts{901, 120, 301}) {
		t.Fatalf("timeouts %+v %v", to, err)
	}
	g := netip.MustParseAddr("224.0.0.81")
	for _, st := range []uint32{StateMaster, StateBackup} {
		if err := c.StartDaemon(ctx, Daemon{State: st, Interface: "eth1", SyncID: 9, Group: g, Port: 8848, TTL: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.StartDaemon(ctx, Daemon{State: StateMaster, Interface: "eth1"}); !errors.Is(err, syscall.EEXIST) || !strings.Contains(err.Error(), "master") {
		t.Fatalf("second master: %v", err)
	}
	ds, err := c.Daemons(ctx)
	if err != nil || len(ds) != 2 || ds[1].State != StateBackup || ds[1].Interface != "eth1" || ds[1].SyncID != 9 || ds[1].Group != g {
		t.Fatalf("daemons %+v %v", ds, err)
	}
	if err := c.StopDaemon(ctx, StateMaster); err != nil {
		t.Fatal(err)
	}
	if ds, _ := c.Daemons(ctx); len(ds) != 1 || ds[0].State != StateBackup {
		t.Fatalf("after stopping the master: %+v", ds)
	}
	f.svcs = []*fakeSvc{{s: svcN(1)}}
	if err := c.Flush(ctx); err != nil || len(f.svcs) != 0 {
		t.Fatalf("flush: %v, %d left", err, len(f.svcs))
	}
	if err := c.Do(ctx, Request{Cmd: CmdSetService, Service: svcN(1)}); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("do: %v", err)
	}
}

// Acknowledging only the last write of a window: when that write fails, its error
// is the window's barrier, and the writes before it succeeded.
func TestApplyLastOfWindowFails(t *testing.T) {
	f := newFake()
	c := mustConn(t, f, 3)
	reqs := []Request{
		{Cmd: CmdNewService, Service: svcN(1)},
		{Cmd: CmdNewService, Service: svcN(2)},
		{Cmd: CmdNewService, Service: svcN(1)}, // EEXIST, last of window 1
		{Cmd: CmdNewService, Service: svcN(3)},
	}
	errs := c.Apply(context.Background(), reqs)
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], syscall.EEXIST) || errs[3] != nil {
		t.Fatalf("errors %v", errs)
	}
	if len(f.queue) != 0 || len(f.svcs) != 3 {
		t.Fatalf("%d answers unread, %d services", len(f.queue), len(f.svcs))
	}
}
