package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrfile"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrlab"
)

const (
	prioMaster = 200
	prioBackup = 100
	dev        = "eth0"
)

type bench struct {
	o      options
	lab    *vrlab.Lab
	client *vrlab.Node
	cap    *vrlab.Capture
	pairs  []*pair
}

// pair is a master (index 0) and a backup (1) of one implementation.
type pair struct {
	b        *bench
	impl     string // "lvsbox" or "keepalived"
	vrid     uint8
	vip      string
	addrs    [2]string
	nodes    [2]*vrlab.Node
	procs    [2]*vrlab.Proc
	vrrpd    [2]*vrlab.VRRPD
	interval time.Duration
}

func (b *bench) logf(format string, args ...any) {
	if b.o.verbose {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}
}

func (b *bench) all() error {
	l, err := vrlab.New(b.o.dir, nil)
	if err != nil {
		return err
	}
	b.lab = l
	defer l.Close()
	// Interrupted: still remove every namespace and process.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		_ = l.Close()
		os.Exit(1)
	}()
	mk := func(name, addr string) (*vrlab.Node, error) {
		return l.AddNode(name, vrlab.LinkSpec{Addrs: []string{addr + "/24"}})
	}
	for i, impl := range []string{"lvsbox", "keepalived"} {
		p := &pair{b: b, impl: impl, vrid: uint8(i + 1), vip: fmt.Sprintf("192.0.2.%d", 101+i)}
		for j := range 2 {
			p.addrs[j] = fmt.Sprintf("192.0.2.%d", 1+2*i+j)
			if p.nodes[j], err = mk(fmt.Sprintf("%c%d", impl[0], j+1), p.addrs[j]); err != nil {
				return err
			}
		}
		b.pairs = append(b.pairs, p)
	}
	if b.client, err = mk("client", "192.0.2.10"); err != nil {
		return err
	}
	if b.cap, err = b.client.StartCapture("cap", dev, "arp or ip proto 112"); err != nil {
		return err
	}
	fmt.Printf("# vrrpbench %s\n\nkernel %s, %d CPUs, load average %s; keepalived %s (vrrp_rt_priority %d); lvsbox vrrpd -rt %d; %d runs per cell.\n\n",
		time.Now().Format(time.RFC3339), uname(), numCPU(), loadavg(), kaVersion(), b.o.kaRT, b.o.rt, b.o.runs)
	if b.o.runs > 0 && len(b.o.intervals) > 0 {
		if err := b.failovers(); err != nil {
			return err
		}
	}
	if b.o.jitter > 0 || b.o.hog > 0 {
		return b.jitters()
	}
	return nil
}

// start starts side i of the pair with the current interval.
func (p *pair) start(i int) error {
	prio := []int{prioMaster, prioBackup}[i]
	n := p.nodes[i]
	if p.impl == "lvsbox" {
		cfg := vrfile.File{Instances: []vrfile.Instance{{Name: "vi", Interface: dev, Version: 3, VRID: p.vrid,
			Priority: uint8(prio), AdvertInterval: vrfile.Duration(p.interval), VIPs: []string{p.vip + "/24"}}}}
		var extra []string
		if p.b.o.rt > 0 {
			extra = []string{"-rt", strconv.Itoa(p.b.o.rt)}
		}
		d, err := n.StartVRRPD(p.b.o.vrrpd, "vrrpd", cfg, extra...)
		if err != nil {
			return err
		}
		p.vrrpd[i], p.procs[i] = d, d.Proc
		return nil
	}
	conf := vrlab.KeepalivedConf(vrlab.KAGlobal{RouterID: n.Name, RTPriority: p.b.o.kaRT}, vrlab.KAInstance{Name: "VI", Interface: dev, Version: 3, VRID: int(p.vrid),
		Priority: prio, Interval: p.interval, VIPs: []string{p.vip + "/24"}})
	pr, err := n.StartKeepalived("keepalived", conf)
	p.procs[i] = pr
	return err
}

func (p *pair) stop(i int) {
	if p.procs[i] != nil {
		p.procs[i].Stop(10 * time.Second)
		p.procs[i] = nil
	}
}

// exclusive waits until only side i holds the VIP.
func (p *pair) exclusive(i int, timeout time.Duration) error {
	for end := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if p.nodes[i].HasAddr(dev, p.vip) && !p.nodes[1-i].HasAddr(dev, p.vip) {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s: VIP not exclusively on %s after %v", p.impl, p.nodes[i].Name, timeout)
		}
	}
}

// restartBoth (re)starts the pair at interval and waits for the master.
func (p *pair) restartBoth(interval time.Duration) error {
	p.stop(0)
	p.stop(1)
	p.interval = interval
	if err := p.start(1); err != nil {
		return err
	}
	if err := p.start(0); err != nil {
		return err
	}
	return p.exclusive(0, 4*interval+10*time.Second)
}

// firstGARP finds the first ARP from side i's MAC for the VIP after t0.
func (p *pair) firstGARP(i int, t0 time.Time, timeout time.Duration) (time.Duration, error) {
	mac := p.nodes[i].Link(dev).MAC.String()
	vip := netip.MustParseAddr(p.vip)
	for end := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		frames, err := p.b.cap.Frames()
		if err != nil {
			return 0, err
		}
		for _, f := range frames {
			if f.Kind == "arp" && f.At.After(t0) && f.SrcMAC.String() == mac && f.ARPFrom == vip {
				return f.At.Sub(t0), nil
			}
		}
		if time.Now().After(end) {
			return 0, fmt.Errorf("%s: no gratuitous ARP from %s within %v", p.impl, p.nodes[i].Name, timeout)
		}
	}
}

// takeover measures one failover: kill -9 (clean false) or SIGTERM of the
// master, then the backup's first GARP. The master is restarted after.
func (p *pair) takeover(clean bool) (time.Duration, error) {
	if err := p.exclusive(0, 4*p.interval+10*time.Second); err != nil {
		return 0, err
	}
	// A random phase against the advert timer, after a few adverts.
	time.Sleep(3*p.interval + time.Duration(rand.Int64N(int64(p.interval))))
	var t0 time.Time
	var err error
	if clean {
		t0 = time.Now()
		err = p.procs[0].Signal(syscall.SIGTERM)
	} else {
		t0, err = p.procs[0].Kill9()
	}
	if err != nil {
		return 0, err
	}
	mdi := vrrp.MasterDownInterval(3, prioBackup, p.interval)
	took, err := p.firstGARP(1, t0, mdi+5*time.Second)
	if clean {
		_ = p.procs[0].Wait(10 * time.Second)
	}
	p.procs[0] = nil
	if err2 := p.start(0); err == nil {
		err = err2
	}
	return took, err
}

type stats struct{ vals []time.Duration }

func (s stats) String() string {
	if len(s.vals) == 0 {
		return "—"
	}
	v := slices.Clone(s.vals)
	slices.Sort(v)
	return fmt.Sprintf("%s (%s–%s)", ms(v[len(v)/2]), ms(v[0]), ms(v[len(v)-1]))
}

func ms(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func (b *bench) failovers() error {
	type row struct {
		interval    time.Duration
		kill, clean map[string]stats
	}
	var rows []row
	for _, iv := range b.o.intervals {
		r := row{interval: iv, kill: map[string]stats{}, clean: map[string]stats{}}
		for _, p := range b.pairs {
			b.logf("%s at %v: starting", p.impl, iv)
			if err := p.restartBoth(iv); err != nil {
				return err
			}
			for run := 0; run < b.o.runs; run++ {
				for _, clean := range []bool{false, true} {
					d, err := p.takeover(clean)
					if err != nil {
						b.logf("%s: %v", p.impl, err)
						continue
					}
					b.logf("%s at %v: clean=%v run %d: %v", p.impl, iv, clean, run, d)
					m := r.kill
					if clean {
						m = r.clean
					}
					s := m[p.impl]
					s.vals = append(s.vals, d)
					m[p.impl] = s
				}
			}
		}
		rows = append(rows, r)
	}
	fmt.Println("## Failover after kill -9 of the master\n\nFrom the signal to the first gratuitous ARP for the VIP from the new master, captured on the client (kernel timestamps). v3, master priority 200, backup 100. Median (min–max).")
	fmt.Println("\n| advert interval | target: 3×interval + skew + 20 ms | lvsbox | keepalived |\n|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %v | %s | %v | %v |\n", r.interval, ms(vrrp.MasterDownInterval(3, prioBackup, r.interval)+20*time.Millisecond), r.kill["lvsbox"], r.kill["keepalived"])
	}
	fmt.Println("\n## Takeover after a clean stop (SIGTERM: priority 0)\n\n| advert interval | target: skew + 20 ms | lvsbox | keepalived |\n|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %v | %s | %v | %v |\n", r.interval, ms(vrrp.SkewTime(3, prioBackup, r.interval)+20*time.Millisecond), r.clean["lvsbox"], r.clean["keepalived"])
	}
	fmt.Println()
	return nil
}

// jitterResult is one pair's adverts in a window.
type jitterResult struct {
	adverts          int
	p50, p99, max    time.Duration
	backupAdverts    int // adverts from the backup at a nonzero priority: it went master
	backupTakeovers  int // transitions to master on the backup
	masterTransition int // transitions on the master
}

func (b *bench) jitters() error {
	const iv = 50 * time.Millisecond
	for _, p := range b.pairs {
		if err := p.restartBoth(iv); err != nil {
			return err
		}
	}
	fmt.Printf("## Advert jitter and spurious transitions at %v adverts (v3)\n\n", iv)
	fmt.Println("Jitter: |gap between consecutive master adverts − interval|, from the client's capture. Spurious: the backup advertising or entering MASTER while the master runs.")
	fmt.Printf("Scheduling: lvsbox vrrpd %s; keepalived VRRP process %s.\n\n", schedOf(b.pairs[0].procs[0].Pid()), b.kaSched())
	fmt.Println("| condition | window | implementation | adverts | p50 | p99 | max | spurious transitions |\n|---|---|---|---|---|---|---|---|")
	for _, w := range []struct {
		name string
		d    time.Duration
		hog  bool
	}{{"idle", b.o.jitter, false}, {"CPU hog (all cores)", b.o.hog, true}} {
		if w.d <= 0 {
			continue
		}
		var hogCmd *exec.Cmd
		if w.hog {
			hogCmd = exec.Command(os.Args[0], "hog", "-n", strconv.Itoa(numCPU()), "-d", (w.d + 2*time.Second).String())
			if err := hogCmd.Start(); err != nil {
				return err
			}
			time.Sleep(time.Second)
		}
		before := map[string][2]int{}
		for _, p := range b.pairs {
			before[p.impl] = p.masterCounts()
		}
		t0 := time.Now()
		b.logf("jitter window %s for %v", w.name, w.d)
		time.Sleep(w.d)
		t1 := time.Now()
		if hogCmd != nil {
			_ = hogCmd.Process.Kill()
			_ = hogCmd.Wait()
		}
		time.Sleep(200 * time.Millisecond)
		for _, p := range b.pairs {
			r, err := p.jitter(t0, t1, iv)
			if err != nil {
				return err
			}
			after := p.masterCounts()
			r.backupTakeovers = after[1] - before[p.impl][1]
			r.masterTransition = after[0] - before[p.impl][0]
			fmt.Printf("| %s (load %s) | %v | %s | %d | %s | %s | %s | %d (backup adverts %d, master re-elections %d) |\n",
				w.name, loadavg(), w.d, p.impl, r.adverts, ms(r.p50), ms(r.p99), ms(r.max), r.backupTakeovers, r.backupAdverts, r.masterTransition)
		}
	}
	fmt.Println()
	return nil
}

// masterCounts returns how often each side entered MASTER so far.
func (p *pair) masterCounts() [2]int {
	var c [2]int
	for i := range 2 {
		if p.impl == "lvsbox" {
			c[i] = int(p.vrrpd[i].Instance("vi").Counters.BecameMaster)
			continue
		}
		c[i] = strings.Count(p.procs[i].Output(), "Entering MASTER STATE")
	}
	return c
}

func (p *pair) jitter(t0, t1 time.Time, iv time.Duration) (jitterResult, error) {
	frames, err := p.b.cap.Frames()
	if err != nil {
		return jitterResult{}, err
	}
	var r jitterResult
	var last time.Time
	var devs []time.Duration
	for _, f := range frames {
		if f.Kind != "vrrp" || f.At.Before(t0) || f.At.After(t1) || len(f.Received.Payload) < 3 || f.Received.Payload[1] != p.vrid || f.Received.Payload[2] == 0 {
			continue
		}
		switch f.Received.Src.String() {
		case p.addrs[0]:
			r.adverts++
			if !last.IsZero() {
				d := f.At.Sub(last) - iv
				devs = append(devs, max(d, -d))
			}
			last = f.At
		case p.addrs[1]:
			r.backupAdverts++
		}
	}
	if len(devs) == 0 {
		return r, errors.New(p.impl + ": no adverts in the window")
	}
	slices.Sort(devs)
	r.p50, r.p99, r.max = devs[len(devs)/2], devs[len(devs)*99/100], devs[len(devs)-1]
	return r, nil
}

func (b *bench) kaSched() string {
	p := b.pairs[1]
	pid, err := os.ReadFile(filepath.Join(b.lab.Dir, p.nodes[0].Name+"-keepalived-vrrp.pid"))
	if err != nil {
		return "unknown"
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(pid)))
	if err != nil {
		return "unknown"
	}
	return schedOf(n)
}

// schedOf renders a process's scheduling policy and priority from /proc.
func schedOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "unknown"
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// Fields after the command: state is f[0] (stat field 3); nice is
	// field 19, rt_priority 40, policy 41.
	if len(f) < 39 {
		return "unknown"
	}
	pol := map[string]string{"0": "SCHED_OTHER", "1": "SCHED_FIFO", "2": "SCHED_RR", "3": "SCHED_BATCH", "5": "SCHED_IDLE"}[f[38]]
	return fmt.Sprintf("%s rt_priority %s nice %s", pol, f[37], f[16])
}

func numCPU() int { return runtime.NumCPU() }

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func uname() string {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return "?"
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}

func kaVersion() string {
	out, _ := exec.Command("keepalived", "--version").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}
