package node

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrnet"
)

// stubWorker records SetMaster calls.
type stubWorker struct{ master bool }

func (w *stubWorker) SetMaster(m bool)       { w.master = m }
func (w *stubWorker) Announce()              {}
func (w *stubWorker) SetSpec(vip.Spec) error { return nil }
func (w *stubWorker) Status() vip.Status     { return vip.Status{Master: w.master, Applied: true} }

// stubConn is a socket whose Pending the test sets.
type stubConn struct {
	pending bool
	sent    int
}

func (c *stubConn) Receive([]byte) (vrnet.Message, error)     { select {} }
func (c *stubConn) Send([]byte, netip.Addr, netip.Addr) error { c.sent++; return nil }
func (c *stubConn) Pending() bool                             { return c.pending }
func (c *stubConn) Close() error                              { return nil }

// TestStarvedBackupReadsQueuedAdverts: when the Master_Down_Timer and an
// advert become ready together (the process was starved), the advert wins;
// unread data in the socket puts the takeover off for at most maxRecheck.
func TestStarvedBackupReadsQueuedAdverts(t *testing.T) {
	ic := inst("vi", 1, 100)
	w := &stubWorker{}
	mb, err := newMember(0, ic, w)
	if err != nil {
		t.Fatal(err)
	}
	conn := &stubConn{}
	t0 := time.Now()
	now := t0
	r := newRunner("", []*member{mb}, slog.New(slog.DiscardHandler), func() time.Time { return now }, nil)
	r.setFacts(Facts{"eth0": {Name: "eth0", Index: 2, Up: true, Addrs: []AddrState{{Prefix: netip.MustParsePrefix("192.0.2.2/24")}}}},
		map[sockKey]vrnet.Conn{ic.sockKey(): conn})
	r.applyInputs(now)
	if mb.m.State() != vrrp.StateBackup {
		t.Fatalf("state %v", mb.m.State())
	}
	deadline, _ := mb.m.Deadline()

	// An advert from the master sits in the queue when the timer fires late.
	p := &vrrp.Packet{Version: 3, Type: 1, VRID: 1, Priority: 200, Interval: 2, Addresses: []netip.Addr{netip.MustParseAddr("192.0.2.101")}}
	src := netip.MustParseAddr("192.0.2.1")
	b, err := p.Marshal(src, vrrp.GroupIPv4)
	if err != nil {
		t.Fatal(err)
	}
	v := vrrp.Decode(vrrp.Received{TTL: 255, Src: src, Dst: vrrp.GroupIPv4, Payload: b})
	r.rx <- rxMsg{0, vrnet.Inbound{Verdict: v, Dst: vrrp.GroupIPv4, At: deadline}}
	now = deadline.Add(40 * time.Millisecond)
	r.tick(now)
	if mb.m.State() != vrrp.StateBackup || w.master {
		t.Fatalf("took over although an advert was queued: %v", mb.m.State())
	}

	// Now nothing is queued but the socket holds unread data: put off.
	d2, _ := mb.m.Deadline()
	conn.pending = true
	now = d2.Add(time.Millisecond)
	r.tick(now)
	if mb.m.State() != vrrp.StateBackup || r.recheckAt.IsZero() {
		t.Fatalf("no recheck with unread data: %v", mb.m.State())
	}
	now = now.Add(maxRecheck / 2)
	r.tick(now)
	if mb.m.State() != vrrp.StateBackup {
		t.Fatal("took over within maxRecheck")
	}
	// Junk keeps the socket busy: the takeover happens after maxRecheck.
	now = now.Add(maxRecheck)
	r.tick(now)
	if mb.m.State() != vrrp.StateMaster || !w.master {
		t.Fatalf("no takeover after maxRecheck: %v", mb.m.State())
	}
	if mb.rechecks < 2 {
		t.Errorf("rechecks %d", mb.rechecks)
	}
}
