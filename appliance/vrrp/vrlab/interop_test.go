package vrlab

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp/vrfile"
)

// interopCase is one protocol flavour run against keepalived.
type interopCase struct {
	name     string
	version  uint8
	interval string
	pass     string
	vips     []string
	check    string // the VIP address to look for
}

var interopCases = []interopCase{
	{"v2_pass", 2, "1s", "secret12", []string{"192.0.2.101/24"}, "192.0.2.101"},
	{"v3_ipv4", 3, "100ms", "", []string{"192.0.2.101/24"}, "192.0.2.101"},
	{"v3_ipv6", 3, "100ms", "", []string{"fe80::101/64", "2001:db8::101/64"}, "2001:db8::101"},
}

// TestKeepalivedInterop runs lvsbox against the Debian keepalived in the
// same segment, both ways round (lvsbox master with keepalived backup and
// the reverse), for v2 with PASS, v3/IPv4 and v3/IPv6: election, takeover
// after a clean stop, preemption on return, takeover after kill -9, and
// never two masters once converged. lvsbox must accept every keepalived
// advert (no receive-check drops).
func TestKeepalivedInterop(t *testing.T) {
	for _, c := range interopCases {
		for _, lvsHigh := range []bool{true, false} {
			role := "lvsbox_master"
			if !lvsHigh {
				role = "keepalived_master"
			}
			t.Run(c.name+"/"+role, func(t *testing.T) { runInterop(t, c, lvsHigh) })
		}
	}
}

// daemon is either side, restartable.
type daemon struct {
	name  string
	node  *Node
	start func() error
	stop  func() // SIGTERM, wait
	kill  func() // kill -9, wait
	vrrpd *VRRPD // lvsbox only
}

func runInterop(t *testing.T, c interopCase, lvsHigh bool) {
	l := newLab(t, "keepalived")
	r, _ := addNodes(t, l, 2)
	d, err := time.ParseDuration(c.interval)
	if err != nil {
		t.Fatal(err)
	}
	prio := map[bool]uint8{true: 200, false: 100}
	lvs := &daemon{name: "lvsbox", node: r[0]}
	lvsCfg := one(inst("vi", 1, prio[lvsHigh], c.interval, func(in *vrfile.Instance) {
		in.Version, in.AuthPass, in.VIPs = c.version, c.pass, c.vips
	}))
	lvs.start = func() error {
		v, err := r[0].StartVRRPD(vrrpdBin, "vrrpd", lvsCfg, "-rt", strconv.Itoa(testRT))
		lvs.vrrpd = v
		return err
	}
	lvs.stop = func() { lvs.vrrpd.Stop(5 * time.Second) }
	lvs.kill = func() { _, _ = lvs.vrrpd.Kill9() }

	ka := &daemon{name: "keepalived", node: r[1]}
	kaConf := KeepalivedConf(KAGlobal{RouterID: "r2", RTPriority: testRT}, KAInstance{Name: "VI", Interface: "eth0", Version: int(c.version), VRID: 1,
		Priority: int(prio[!lvsHigh]), Interval: d, VIPs: c.vips, AuthPass: c.pass})
	var kaProc *Proc
	ka.start = func() error {
		var err error
		kaProc, err = r[1].StartKeepalived("keepalived", kaConf)
		return err
	}
	ka.stop = func() { kaProc.Stop(10 * time.Second) }
	ka.kill = func() { _, _ = kaProc.Kill9() }

	high, low := lvs, ka
	if !lvsHigh {
		high, low = ka, lvs
	}
	// Convergence takes up to Master_Down_Interval (+ keepalived's startup).
	conv := 4*d + 5*time.Second
	exclusive := func(n *daemon) func() bool {
		return func() bool { return onlyOn(n.node, "eth0", c.check, r...) }
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(low.start())
	must(high.start())
	waitFor(t, conv, high.name+" master", exclusive(high))
	holds(t, 3*d, "one master ("+high.name+")", exclusive(high))
	if s := lvs.vrrpd.Instance("vi"); s.State != map[bool]string{true: "Master", false: "Backup"}[lvsHigh] {
		t.Fatalf("lvsbox state %s", s.State)
	}

	// Clean stop of the master: the backup takes over (priority 0: after Skew_Time).
	high.stop()
	took := waitFor(t, conv, low.name+" master after "+high.name+" stopped", exclusive(low))
	t.Logf("%s -> %s takeover after a clean stop: %v", high.name, low.name, took)
	// The master returns and preempts.
	must(high.start())
	waitFor(t, conv, high.name+" master again (preempt)", exclusive(high))
	holds(t, 3*d, "one master", exclusive(high))

	// kill -9 of the master: the backup takes over after Master_Down_Interval.
	high.kill()
	took = waitFor(t, conv, low.name+" master after kill -9", func() bool { return low.node.HasAddr("eth0", c.check) })
	t.Logf("%s -> %s takeover after kill -9: %v", high.name, low.name, took)
	// It comes back: the leftover VIP goes, it preempts, one master.
	must(high.start())
	waitFor(t, conv, high.name+" sole master after restart", exclusive(high))
	holds(t, 3*d, "one master", exclusive(high))

	s := lvs.vrrpd.Instance("vi")
	if len(s.Counters.Dropped) != 0 {
		t.Errorf("lvsbox dropped keepalived adverts: %v", s.Counters.Dropped)
	}
	if s.Counters.AdvertsReceived == 0 && !lvsHigh {
		t.Errorf("lvsbox accepted no advert from keepalived")
	}
	t.Logf("lvsbox counters: received %d, sent %d, dropped %v, transitions %v", s.Counters.AdvertsReceived,
		s.Counters.AdvertsSent, maps.Clone(s.Counters.Dropped), summarize(s.Transitions))
}

func summarize(trs []TransitionRecord) string {
	var b []string
	for _, tr := range trs {
		b = append(b, fmt.Sprintf("%s>%s(%s)", tr.From, tr.To, tr.Reason))
	}
	return strings.Join(b, " ")
}
