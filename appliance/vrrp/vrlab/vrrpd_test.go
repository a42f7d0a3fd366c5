package vrlab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrfile"
)

const vip1 = "192.0.2.101"

// TestElectionFailover: three routers elect by priority; kill -9 of the
// master hands over within Master_Down_Interval; the restarted router
// clears its leftover VIP, preempts, and a clean stop (priority 0) hands
// over after Skew_Time. Virtual routes follow the VIP.
func TestElectionFailover(t *testing.T) {
	l := newLab(t)
	r, _ := addNodes(t, l, 3)
	route := func(in *vrfile.Instance) {
		in.Routes = []vrfile.Route{{Dst: "203.0.113.0/24", Gateway: "192.0.2.254"}}
	}
	var d [3]*VRRPD
	for i, p := range []uint8{100, 200, 150} {
		d[i] = startVRRPD(t, r[i], one(inst("vi", 1, p, "100ms", route)))
	}
	waitFor(t, 5*time.Second, "r2 (200) master, VIP only there", func() bool {
		return state(d[1], "vi") == "Master" && onlyOn(r[1], "eth0", vip1, r...)
	})
	if state(d[0], "vi") != "Backup" || state(d[2], "vi") != "Backup" {
		t.Fatalf("states %s %s", state(d[0], "vi"), state(d[2], "vi"))
	}
	for i, n := range r {
		out, _ := n.Exec("ip", "route", "show", "203.0.113.0/24")
		if has := strings.Contains(out, "via 192.0.2.254"); has != (i == 1) {
			t.Errorf("%s: virtual route present=%v: %q", n.Name, has, out)
		}
	}
	if s := d[0].Instance("vi"); s.MasterAddr.String() != "192.0.2.2" {
		t.Errorf("r1 sees master %v", s.MasterAddr)
	}
	if _, err := d[1].Kill9(); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, 5*time.Second, "r3 master", func() bool { return state(d[2], "vi") == "Master" && r[2].HasAddr("eth0", vip1) })
	t.Logf("kill -9 failover seen after %v (Master_Down_Interval %v)", took, vrrp.MasterDownInterval(3, 150, 100*time.Millisecond))
	if state(d[0], "vi") != "Backup" || r[0].HasAddr("eth0", vip1) {
		t.Fatal("r1 took the VIP too")
	}
	d[1] = startVRRPD(t, r[1], one(inst("vi", 1, 200, "100ms", route)))
	waitFor(t, 5*time.Second, "r2 master again, VIP only there", func() bool {
		return state(d[1], "vi") == "Master" && onlyOn(r[1], "eth0", vip1, r...)
	})
	d[1].Stop(5 * time.Second)
	took = waitFor(t, 5*time.Second, "r3 master after the clean stop", func() bool { return onlyOn(r[2], "eth0", vip1, r...) })
	t.Logf("clean-stop takeover seen after %v (Skew_Time %v)", took, vrrp.SkewTime(3, 150, 100*time.Millisecond))
	if s := d[2].Instance("vi"); s.Counters.PriorityZeroReceived == 0 {
		t.Errorf("r3 saw no priority 0: %+v", s.Counters)
	}
	if out, _ := r[1].Exec("ip", "route", "show", "203.0.113.0/24"); out != "" {
		t.Errorf("stopped r2 kept the virtual route: %q", out)
	}
	m, err := d[2].Metrics()
	if err != nil || !strings.Contains(m, `lvsbox_vrrp_state{instance="vi",interface="eth0",vrid="1"} 2`) {
		t.Errorf("metrics (%v):\n%s", err, m)
	}
}

// TestPreemptModes: a higher router with no_preempt leaves a live master
// alone; with preempt_delay it takes over only after the delay.
func TestPreemptModes(t *testing.T) {
	l := newLab(t)
	r, _ := addNodes(t, l, 3)
	low := startVRRPD(t, r[0], one(inst("vi", 1, 100, "100ms")))
	waitFor(t, 5*time.Second, "r1 master", func() bool { return state(low, "vi") == "Master" })
	np := startVRRPD(t, r[1], one(inst("vi", 1, 200, "100ms", func(in *vrfile.Instance) { in.NoPreempt = true })))
	holds(t, time.Second, "r1 master while the no-preempt r2 runs", func() bool {
		return state(low, "vi") == "Master" && state(np, "vi") == "Backup" && onlyOn(r[0], "eth0", vip1, r...)
	})
	np.Stop(5 * time.Second)

	delay := 1500 * time.Millisecond
	started := time.Now()
	pd := startVRRPD(t, r[2], one(inst("vi", 1, 200, "100ms", func(in *vrfile.Instance) { in.PreemptDelay = vrfile.Duration(delay) })))
	waitFor(t, 5*time.Second, "r3 master after its preempt delay", func() bool { return onlyOn(r[2], "eth0", vip1, r...) })
	took := time.Since(started)
	if took < delay {
		t.Errorf("r3 took over after %v, within its %v preempt delay", took, delay)
	}
	t.Logf("preempt after %v (delay %v)", took, delay)
	if st := pd.Instance("vi"); st.Transitions[len(st.Transitions)-1].Reason != "preempt" || st.Counters.PreemptHeld == 0 {
		t.Errorf("r3: %+v", st)
	}
}

// TestTrackedInterface: a tracked interface (weight 0) losing carrier puts
// the master in FAULT; a weighted one lowers its priority; the own
// interface losing carrier is a FAULT too.
func TestTrackedInterface(t *testing.T) {
	l := newLab(t)
	var r []*Node
	for i := 1; i <= 2; i++ {
		n, err := l.AddNode(fmt.Sprintf("r%d", i), LinkSpec{Addrs: []string{fmt.Sprintf("192.0.2.%d/24", i)}},
			LinkSpec{Segment: "aux", Addrs: []string{fmt.Sprintf("198.51.100.%d/24", i)}})
		if err != nil {
			t.Fatal(err)
		}
		r = append(r, n)
	}
	trk := func(w int) func(*vrfile.Instance) {
		return func(in *vrfile.Instance) { in.TrackInterfaces = []vrfile.TrackItem{{Name: "eth1", Weight: w}} }
	}
	a := startVRRPD(t, r[0], one(inst("vi", 1, 200, "100ms", trk(0)), inst("vw", 2, 200, "100ms", trk(-150))))
	b := startVRRPD(t, r[1], one(inst("vi", 1, 100, "100ms"), inst("vw", 2, 100, "100ms")))
	const vip2 = "192.0.2.102"
	waitFor(t, 5*time.Second, "r1 master of both", func() bool {
		return onlyOn(r[0], "eth0", vip1, r...) && onlyOn(r[0], "eth0", vip2, r...)
	})
	if err := r[0].SetCarrier("eth1", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "r2 master of both", func() bool {
		return onlyOn(r[1], "eth0", vip1, r...) && onlyOn(r[1], "eth0", vip2, r...)
	})
	if s := a.Instance("vi"); s.State != "Fault" || s.Fault != "tracked interface eth1 down" {
		t.Errorf("vi: %s %q", s.State, s.Fault)
	}
	if s := a.Instance("vw"); s.State != "Backup" || s.Priority != 50 {
		t.Errorf("vw: %s priority %d", s.State, s.Priority)
	}
	if err := r[0].SetCarrier("eth1", true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "r1 master of both again", func() bool {
		return onlyOn(r[0], "eth0", vip1, r...) && onlyOn(r[0], "eth0", vip2, r...)
	})
	// The VRRP interface itself.
	if err := r[0].SetCarrier("eth0", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "r2 master, r1 fault", func() bool {
		return state(b, "vi") == "Master" && state(a, "vi") == "Fault" && !r[0].HasAddr("eth0", vip1)
	})
	if err := r[0].SetCarrier("eth0", true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "r1 master again", func() bool { return onlyOn(r[0], "eth0", vip1, r...) })
}

// TestUnicast: unicast peers instead of multicast: the adverts r2 captures
// are unicast to it with TTL 255; the routers elect and fail over. (The
// peer filter is covered by the node unit tests.)
func TestUnicast(t *testing.T) {
	l := newLab(t, "tcpdump")
	r, client := addNodes(t, l, 2)
	uni := func(peer string) func(*vrfile.Instance) {
		return func(in *vrfile.Instance) { in.UnicastPeers = []string{peer} }
	}
	capR2, err := r[1].StartCapture("cap", "eth0", "ip proto 112")
	if err != nil {
		t.Fatal(err)
	}
	a := startVRRPD(t, r[0], one(inst("vi", 1, 200, "100ms", uni("192.0.2.2"))))
	b := startVRRPD(t, r[1], one(inst("vi", 1, 100, "100ms", uni("192.0.2.1"))))
	waitFor(t, 5*time.Second, "r1 master", func() bool { return state(a, "vi") == "Master" && onlyOn(r[0], "eth0", vip1, r...) })
	waitFor(t, 5*time.Second, "r2 hears r1", func() bool { return b.Instance("vi").Counters.AdvertsReceived > 5 })
	n := 0
	waitFor(t, 5*time.Second, "r1's adverts captured on r2", func() bool {
		frames, err := capR2.Frames()
		if err != nil {
			t.Fatal(err)
		}
		n = 0
		for _, f := range frames {
			if f.Kind == "vrrp" && f.Received.Src.String() == "192.0.2.1" {
				n++
				if f.Received.Dst.String() != "192.0.2.2" || f.Received.TTL != 255 {
					t.Fatalf("advert %v -> %v ttl %d, want unicast to 192.0.2.2 with TTL 255", f.Received.Src, f.Received.Dst, f.Received.TTL)
				}
			}
		}
		return n >= 3
	})
	a.Stop(5 * time.Second)
	waitFor(t, 5*time.Second, "r2 master", func() bool { return onlyOn(r[1], "eth0", vip1, r...) })
	_ = client
}

// TestIPv6: a v3 IPv6 instance (first VIP link-local) with adverts from the
// link-local address; the client's neighbour entry follows the VIP through
// unsolicited neighbour adverts.
func TestIPv6(t *testing.T) {
	l := newLab(t)
	r, client := addNodes(t, l, 2)
	v6 := func(in *vrfile.Instance) { in.VIPs = []string{"fe80::101/64", "2001:db8::101/64"} }
	a := startVRRPD(t, r[0], one(inst("v6", 1, 200, "100ms", v6)))
	b := startVRRPD(t, r[1], one(inst("v6", 1, 100, "100ms", v6)))
	waitFor(t, 5*time.Second, "r1 master", func() bool {
		return state(a, "v6") == "Master" && onlyOn(r[0], "eth0", "2001:db8::101", r...) && state(b, "v6") == "Backup"
	})
	if s := a.Instance("v6"); !s.PrimaryAddr.IsLinkLocalUnicast() {
		t.Errorf("source %v is not link-local", s.PrimaryAddr)
	}
	if err := client.Ping("2001:db8::101", 2*time.Second); err != nil {
		t.Fatalf("ping VIP: %v", err)
	}
	neighMAC := func() string {
		out, _ := client.Exec("ip", "-6", "neigh", "show", "2001:db8::101")
		f := strings.Fields(out)
		for i := range f {
			if f[i] == "lladdr" && i+1 < len(f) {
				return f[i+1]
			}
		}
		return ""
	}
	if got := neighMAC(); got != r[0].Link("eth0").MAC.String() {
		t.Fatalf("client neighbour entry %q, want r1 %v", got, r[0].Link("eth0").MAC)
	}
	a.Stop(5 * time.Second)
	waitFor(t, 5*time.Second, "r2 master with the VIP", func() bool { return onlyOn(r[1], "eth0", "2001:db8::101", r...) })
	waitFor(t, 5*time.Second, "client's neighbour entry moved to r2 (unsolicited NA)", func() bool {
		return neighMAC() == r[1].Link("eth0").MAC.String()
	})
	if err := client.Ping("2001:db8::101", 2*time.Second); err != nil {
		t.Fatalf("ping VIP after failover: %v", err)
	}
}

// TestSyncGroup: two instances on two interfaces in one sync group move
// together when one interface fails.
func TestSyncGroup(t *testing.T) {
	l := newLab(t)
	var r []*Node
	for i := 1; i <= 2; i++ {
		n, err := l.AddNode(fmt.Sprintf("r%d", i), LinkSpec{Addrs: []string{fmt.Sprintf("192.0.2.%d/24", i)}},
			LinkSpec{Segment: "back", Addrs: []string{fmt.Sprintf("198.51.100.%d/24", i)}})
		if err != nil {
			t.Fatal(err)
		}
		r = append(r, n)
	}
	cfg := func(prio uint8) vrfile.File {
		return vrfile.File{
			Instances: []vrfile.Instance{inst("front", 1, prio, "100ms"), inst("back", 2, prio, "100ms", func(in *vrfile.Instance) {
				in.Interface, in.VIPs = "eth1", []string{"198.51.100.102/24"}
			})},
			SyncGroups: []vrfile.SyncGroup{{Name: "g", Members: []string{"front", "back"}}},
		}
	}
	a := startVRRPD(t, r[0], cfg(200))
	b := startVRRPD(t, r[1], cfg(100))
	both := func(n *Node) bool {
		return onlyOn(n, "eth0", vip1, r...) && onlyOn(n, "eth1", "198.51.100.102", r...)
	}
	waitFor(t, 5*time.Second, "r1 master of the group", func() bool { return both(r[0]) })
	if err := r[0].SetCarrier("eth1", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "r2 master of both (front followed back)", func() bool { return both(r[1]) })
	if s := a.Instance("front"); s.State != "Fault" || !strings.Contains(s.Fault, "sync group g: back") {
		t.Errorf("r1 front: %s %q", s.State, s.Fault)
	}
	if err := r[0].SetCarrier("eth1", true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "r1 master of both again", func() bool { return both(r[0]) })
	_ = b
}

// TestSplitBrain: r1's port is taken off the bridge (carrier kept): both
// routers are master; when the path returns, r2 steps down, r1 keeps the
// VIP, counts the episode and re-announces, so the client's ARP entry
// points at r1 again without waiting for it to expire.
func TestSplitBrain(t *testing.T) {
	l := newLab(t)
	r, client := addNodes(t, l, 2)
	a := startVRRPD(t, r[0], one(inst("vi", 1, 200, "100ms")))
	b := startVRRPD(t, r[1], one(inst("vi", 1, 100, "100ms")))
	waitFor(t, 5*time.Second, "r1 master", func() bool { return onlyOn(r[0], "eth0", vip1, r...) })
	arpMAC := func() string {
		out, _ := client.Exec("ip", "neigh", "show", vip1)
		f := strings.Fields(out)
		for i := range f {
			if f[i] == "lladdr" && i+1 < len(f) {
				return f[i+1]
			}
		}
		return ""
	}
	if err := client.Ping(vip1, 2*time.Second); err != nil {
		t.Fatalf("ping: %v", err)
	}
	mac1, mac2 := r[0].Link("eth0").MAC.String(), r[1].Link("eth0").MAC.String()
	if arpMAC() != mac1 {
		t.Fatalf("client ARP %q, want r1 %s", arpMAC(), mac1)
	}
	if err := r[0].Partition("eth0", true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "dual master", func() bool {
		return state(a, "vi") == "Master" && state(b, "vi") == "Master" && r[1].HasAddr("eth0", vip1)
	})
	waitFor(t, 5*time.Second, "client ARP moved to r2", func() bool { return arpMAC() == mac2 })
	if err := r[0].Partition("eth0", false); err != nil {
		t.Fatal(err)
	}
	healed := waitFor(t, 5*time.Second, "only r1 holds the VIP", func() bool { return onlyOn(r[0], "eth0", vip1, r...) })
	waitFor(t, 5*time.Second, "client ARP back on r1", func() bool { return arpMAC() == mac1 })
	holds(t, time.Second, "one master", func() bool { return onlyOn(r[0], "eth0", vip1, r...) && state(b, "vi") == "Backup" })
	if s := a.Instance("vi"); s.Counters.DualMasterEpisodes < 1 {
		t.Errorf("r1 counted %d dual-master episodes", s.Counters.DualMasterEpisodes)
	}
	t.Logf("healed %v after the path returned", healed)
}

// TestVMAC: the VIP lives on a macvlan with the virtual MAC; the client
// resolves it to 00:00:5e:00:01:VRID and keeps that entry across failover.
func TestVMAC(t *testing.T) {
	l := newLab(t)
	r, client := addNodes(t, l, 2)
	vm := func(in *vrfile.Instance) { in.VMAC = true }
	a := startVRRPD(t, r[0], one(inst("vi", 7, 200, "100ms", vm)))
	startVRRPD(t, r[1], one(inst("vi", 7, 100, "100ms", vm)))
	const vip7 = "192.0.2.107"
	waitFor(t, 5*time.Second, "r1 holds the VIP on vrrp.7", func() bool { return onlyOn(r[0], "vrrp.7", vip7, r...) })
	if err := client.Ping(vip7, 2*time.Second); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if out, _ := client.Exec("ip", "neigh", "show", vip7); !strings.Contains(out, "00:00:5e:00:01:07") {
		t.Fatalf("client ARP entry %q, want the virtual MAC", out)
	}
	a.Stop(5 * time.Second)
	waitFor(t, 5*time.Second, "r2 holds the VIP", func() bool { return onlyOn(r[1], "vrrp.7", vip7, r...) })
	if err := client.Ping(vip7, 2*time.Second); err != nil {
		t.Fatalf("ping after failover: %v", err)
	}
	if _, err := r[0].Exec("ip", "link", "show", "vrrp.7"); err == nil {
		t.Error("stopped r1 left its vrrp.7 interface")
	}
	_ = os.Remove(filepath.Join(l.Dir, "unused"))
}
