package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvsnl"
)

const dialTimeout = 3 * time.Second

var timeNow = time.Now

// Schedulers are the IPVS schedulers of the Debian kernel (all in the board's
// module list).
var Schedulers = []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf"}

// exerciser programs the kernel through lvsbox's reconciler and reads it back.
type exerciser struct {
	n   *ipvs.Netlink
	c   *ipvsnl.Conn
	r   *ipvs.Reconciler
	chk *checker
	out io.Writer
}

func exercise(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("exercise", flag.ContinueOnError)
	fs.SetOutput(stderr)
	withNet := fs.Bool("net", true, "build the veth lab for the sync daemon and traffic checks")
	if err := fs.Parse(args); err != nil {
		return 2, nil
	}
	n, c, err := open(0)
	if err != nil {
		return 1, err
	}
	defer n.Close()
	e := &exerciser{n: n, c: c, r: &ipvs.Reconciler{Kernel: n}, chk: &checker{w: stdout}, out: stdout}
	e.chk.check("info", func() (string, error) { return e.info(ctx) })
	e.chk.check("schedulers", func() (string, error) { return e.schedulers(ctx) })
	e.chk.check("scheduler_edit_in_place", func() (string, error) { return e.schedulerEdit(ctx) })
	e.chk.check("fwmark", func() (string, error) { return e.fwmark(ctx) })
	e.chk.check("ipv6", func() (string, error) { return e.ipv6(ctx) })
	e.chk.check("persistence", func() (string, error) { return e.persistence(ctx) })
	e.chk.check("thresholds", func() (string, error) { return e.thresholds(ctx) })
	e.chk.check("tunnels", func() (string, error) { return e.tunnels(ctx) })
	e.chk.check("timeouts", func() (string, error) { return e.timeouts(ctx) })
	e.chk.check("batch_errors", func() (string, error) { return e.batchErrors(ctx) })
	if *withNet {
		l, err := newLab()
		e.chk.check("lab", func() (string, error) { return "veth and real-server namespace", err })
		if err == nil {
			defer l.close()
			e.chk.check("sync_daemons", func() (string, error) { return e.syncDaemons(ctx) })
			e.traffic(ctx)
		}
	}
	if err := c.Flush(ctx); err != nil {
		return 1, err
	}
	fmt.Fprintf(stdout, "exercise: %d checks failed\n", e.chk.failed)
	return e.chk.code(), nil
}

// program replaces the table by desired (flush, then one reconcile pass) and checks
// that the pass wrote every object without errors and that reading the kernel back
// gives exactly desired.
func (e *exerciser) program(ctx context.Context, desired []ipvs.ServiceState) ([]ipvs.ServiceState, error) {
	if err := e.c.Flush(ctx); err != nil {
		return nil, err
	}
	res, err := e.r.Reconcile(ctx, desired)
	if err != nil {
		return nil, err
	}
	if err := opsErrors(res); err != nil {
		return nil, err
	}
	if res.Writes != Objects(desired) {
		return nil, fmt.Errorf("%d writes for %d objects", res.Writes, Objects(desired))
	}
	return e.readBack(ctx, desired)
}

func (e *exerciser) readBack(ctx context.Context, desired []ipvs.ServiceState) ([]ipvs.ServiceState, error) {
	obs, err := e.n.Services(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := sameTable(desired, obs); err != nil {
		return nil, fmt.Errorf("read back: %w", err)
	}
	return obs, nil
}

// procIPVS returns /proc/net/ip_vs of this namespace.
func procIPVS() (string, error) {
	b, err := os.ReadFile("/proc/net/ip_vs")
	return string(b), err
}

func (e *exerciser) info(ctx context.Context) (string, error) {
	i, err := e.n.Info(ctx)
	if err != nil {
		return "", err
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(i.Version) || i.ConnTabSize <= 0 {
		return "", fmt.Errorf("implausible info %+v", i)
	}
	return fmt.Sprintf("IPVS %s, connection table %d, kernel %s", i.Version, i.ConnTabSize, kernelRelease()), nil
}

func rsv(addr string, port uint16, fwd ipvs.Forwarding, w int) ipvs.Destination {
	return ipvs.Destination{Key: ipvs.DestinationKey{Addr: netip.MustParseAddr(addr), Port: port}, Forwarding: fwd, Weight: w}
}

func svc4(p ipvs.Protocol, addr string, port uint16, sched string) ipvs.Service {
	return ipvs.Service{Key: ipvs.AddrKey(p, netip.MustParseAddr(addr), port), Scheduler: sched, Netmask: 32}
}

// schedulerTable has one service per scheduler, plus sh and mh with both of their
// flags (sh-fallback|sh-port, mh-fallback|mh-port).
func schedulerTable() []ipvs.ServiceState {
	var out []ipvs.ServiceState
	for i, s := range append(Schedulers, "sh", "mh") {
		st := ipvs.ServiceState{Service: svc4(ipvs.TCP, "192.0.2.1", uint16(1000+i), s),
			Destinations: []ipvs.Destination{rsv("198.51.100.10", 80, ipvs.NAT, 1), rsv("198.51.100.11", 80, ipvs.NAT, 2)}}
		if i >= len(Schedulers) {
			st.Flags = ipvs.FlagSched1 | ipvs.FlagSched2
		}
		out = append(out, st)
	}
	return out
}

var procServiceRE = regexp.MustCompile(`(?m)^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)`)

func (e *exerciser) schedulers(ctx context.Context) (string, error) {
	desired := schedulerTable()
	if _, err := e.program(ctx, desired); err != nil {
		return "", err
	}
	proc, err := procIPVS()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(e.out, "--- /proc/net/ip_vs (schedulers)\n%s--- end\n", proc)
	seen := map[string]string{} // "C0000201:03E8" -> scheduler
	for _, m := range procServiceRE.FindAllStringSubmatch(proc, -1) {
		seen[m[2]] = m[3]
	}
	for _, s := range desired {
		key := fmt.Sprintf("%08X:%04X", ipv4Num(s.Key.Addr), s.Key.Port)
		if seen[key] != s.Scheduler {
			return "", fmt.Errorf("/proc/net/ip_vs shows %q for %s, want %s", seen[key], s.Key, s.Scheduler)
		}
	}
	return fmt.Sprintf("%d services: %s, sh and mh with both flags", len(desired), strings.Join(Schedulers, " ")), nil
}

func ipv4Num(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// schedulerEdit changes the scheduler and flags of every service of the scheduler
// table: one SET_SERVICE each, no delete, destinations untouched.
func (e *exerciser) schedulerEdit(ctx context.Context) (string, error) {
	desired := schedulerTable()
	for i := range desired {
		desired[i].Scheduler = Schedulers[(i+1)%len(Schedulers)]
		desired[i].Flags = 0
	}
	desired[0].Scheduler, desired[0].Flags = "sh", ipvs.FlagSched2 // sh-port only
	res, err := e.r.Reconcile(ctx, desired)
	if err != nil {
		return "", err
	}
	if err := opsErrors(res); err != nil {
		return "", err
	}
	for _, op := range res.Ops {
		if op.Kind != ipvs.UpdateService {
			return "", fmt.Errorf("unexpected %s", op)
		}
	}
	if len(res.Ops) != len(desired) {
		return "", fmt.Errorf("%d ops for %d services", len(res.Ops), len(desired))
	}
	if _, err := e.readBack(ctx, desired); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d in-place updates, 0 deletes", len(res.Ops)), nil
}

func (e *exerciser) fwmark(ctx context.Context) (string, error) {
	desired := []ipvs.ServiceState{
		{Service: ipvs.Service{Key: ipvs.MarkKey(4, 1), Scheduler: "wlc", Netmask: 32},
			Destinations: []ipvs.Destination{rsv("198.51.100.10", 0, ipvs.DirectRoute, 1), rsv("198.51.100.11", 0, ipvs.DirectRoute, 1)}},
		{Service: ipvs.Service{Key: ipvs.MarkKey(6, 2), Scheduler: "rr", Netmask: 128},
			Destinations: []ipvs.Destination{rsv("2001:db8:1::10", 0, ipvs.DirectRoute, 1)}},
	}
	if _, err := e.program(ctx, desired); err != nil {
		return "", err
	}
	proc, err := procIPVS()
	if err != nil {
		return "", err
	}
	for _, want := range []string{"FWM  00000001 wlc", "FWM  00000002"} {
		if !strings.Contains(proc, want) {
			return "", fmt.Errorf("/proc/net/ip_vs lacks %q:\n%s", want, proc)
		}
	}
	return "fwmark 1 (ipv4), fwmark 2 (ipv6)", nil
}

func (e *exerciser) ipv6(ctx context.Context) (string, error) {
	s := ipvs.Service{Key: ipvs.AddrKey(ipvs.TCP, netip.MustParseAddr("2001:db8::100"), 80), Scheduler: "wrr",
		Flags: ipvs.FlagPersistent, Timeout: 60, Netmask: 64}
	u := ipvs.Service{Key: ipvs.AddrKey(ipvs.UDP, netip.MustParseAddr("2001:db8::100"), 53), Scheduler: "rr", Netmask: 128}
	desired := []ipvs.ServiceState{
		{Service: s, Destinations: []ipvs.Destination{rsv("2001:db8:1::11", 80, ipvs.NAT, 3), rsv("2001:db8:1::12", 8080, ipvs.NAT, 1)}},
		{Service: u, Destinations: []ipvs.Destination{rsv("2001:db8:1::11", 53, ipvs.DirectRoute, 1)}},
		{Service: ipvs.Service{Key: ipvs.AddrKey(ipvs.SCTP, netip.MustParseAddr("2001:db8::100"), 3868), Scheduler: "lc", Netmask: 128},
			Destinations: []ipvs.Destination{rsv("2001:db8:1::13", 3868, ipvs.NAT, 1)}},
	}
	if _, err := e.program(ctx, desired); err != nil {
		return "", err
	}
	return "tcp (persistent 60 s per /64), udp and sctp services on 2001:db8::100", nil
}

func (e *exerciser) persistence(ctx context.Context) (string, error) {
	p := svc4(ipvs.TCP, "192.0.2.2", 443, "rr")
	p.Flags, p.Timeout, p.Netmask = ipvs.FlagPersistent, 300, 24
	all := svc4(ipvs.TCP, "192.0.2.2", 0, "wlc") // port 0: all ports, needs persistence
	all.Flags, all.Timeout = ipvs.FlagPersistent, 1800
	ops := svc4(ipvs.UDP, "192.0.2.2", 53, "rr")
	ops.Flags = ipvs.FlagOnePacket
	desired := []ipvs.ServiceState{
		{Service: p, Destinations: []ipvs.Destination{rsv("198.51.100.10", 443, ipvs.NAT, 1)}},
		{Service: all, Destinations: []ipvs.Destination{rsv("198.51.100.10", 0, ipvs.DirectRoute, 1)}},
		{Service: ops, Destinations: []ipvs.Destination{rsv("198.51.100.10", 53, ipvs.NAT, 1)}},
	}
	if _, err := e.program(ctx, desired); err != nil {
		return "", err
	}
	proc, err := procIPVS()
	if err != nil {
		return "", err
	}
	// /proc shows the timeout in jiffies (timeout * HZ) and the mask in hex.
	for _, want := range []struct {
		re      string
		timeout int
	}{{`C0000202:01BB rr\s+persistent (\d+) FFFFFF00`, 300}, {`C0000202:0000 wlc\s+persistent (\d+) FFFFFFFF`, 1800}} {
		m := regexp.MustCompile(want.re).FindStringSubmatch(proc)
		if m == nil {
			return "", fmt.Errorf("/proc/net/ip_vs lacks %q:\n%s", want.re, proc)
		}
		if j, _ := strconv.Atoi(m[1]); !slices.Contains([]int{100, 250, 300, 1000}, j/want.timeout) || j%want.timeout != 0 {
			return "", fmt.Errorf("/proc/net/ip_vs: persistence %s jiffies is not %d s at any HZ", m[1], want.timeout)
		}
	}
	// Persistence timeout and netmask edited in place.
	desired[0].Timeout, desired[0].Netmask = 600, 16
	res, err := e.r.Reconcile(ctx, desired)
	if err != nil {
		return "", err
	}
	if len(res.Ops) != 1 || res.Ops[0].Kind != ipvs.UpdateService || len(res.Errors) != 0 {
		return "", fmt.Errorf("edit: ops %v errors %v", res.Ops, res.Errors)
	}
	if _, err := e.readBack(ctx, desired); err != nil {
		return "", err
	}
	return "300 s per /24 (then 600 s per /16 in place), all-ports service, one-packet udp", nil
}

func (e *exerciser) thresholds(ctx context.Context) (string, error) {
	d1 := rsv("198.51.100.10", 80, ipvs.NAT, 5)
	d1.UpperThreshold, d1.LowerThreshold = 100, 50
	d2 := rsv("198.51.100.11", 80, ipvs.NAT, 5)
	d2.UpperThreshold = 10
	desired := []ipvs.ServiceState{{Service: svc4(ipvs.TCP, "192.0.2.3", 80, "lc"), Destinations: []ipvs.Destination{d1, d2}}}
	if _, err := e.program(ctx, desired); err != nil {
		return "", err
	}
	desired[0].Destinations[0].UpperThreshold, desired[0].Destinations[0].LowerThreshold = 200, 150
	desired[0].Destinations[1].Weight = 0 // drain
	res, err := e.r.Reconcile(ctx, desired)
	if err != nil {
		return "", err
	}
	if len(res.Ops) != 2 || res.Ops[0].Kind != ipvs.UpdateDestination || res.Ops[1].Kind != ipvs.UpdateDestination || len(res.Errors) != 0 {
		return "", fmt.Errorf("edit: ops %v errors %v", res.Ops, res.Errors)
	}
	if _, err := e.readBack(ctx, desired); err != nil {
		return "", err
	}
	// The kernel refuses lower > upper, per object.
	bad := desired[0].Destinations[0]
	bad.LowerThreshold = 300
	err = e.n.UpdateDestination(ctx, desired[0].Key, bad)
	if !errors.Is(err, syscall.ERANGE) && !errors.Is(err, syscall.EINVAL) {
		return "", fmt.Errorf("lower threshold above upper: %v, want ERANGE", err)
	}
	return "100/50 and 10/0, edited in place to 200/150 and weight 0; lower > upper refused: " + err.Error(), nil
}

func (e *exerciser) tunnels(ctx context.Context) (string, error) {
	ipip := rsv("198.51.100.20", 80, ipvs.Tunnel, 1)
	gue := rsv("198.51.100.21", 80, ipvs.Tunnel, 1)
	gue.TunnelType, gue.TunnelPort, gue.TunnelFlags = ipvs.TunnelGUE, 6080, ipvs.TunnelFlagCsum
	gre := rsv("198.51.100.22", 80, ipvs.Tunnel, 1)
	gre.TunnelType, gre.TunnelFlags = ipvs.TunnelGRE, ipvs.TunnelFlagCsum
	mixed := rsv("2001:db8:1::20", 80, ipvs.Tunnel, 2) // IPv6 real server of an IPv4 service
	desired := []ipvs.ServiceState{{Service: svc4(ipvs.TCP, "192.0.2.4", 80, "wlc"), Destinations: []ipvs.Destination{ipip, gue, gre, mixed}}}
	if _, err := e.program(ctx, desired); err != nil {
		return "", err
	}
	// A mixed-family destination needs tunnel forwarding: NAT is refused.
	nat := rsv("2001:db8:1::21", 80, ipvs.NAT, 1)
	if err := e.n.AddDestination(ctx, desired[0].Key, nat); !errors.Is(err, syscall.EINVAL) {
		return "", fmt.Errorf("mixed-family NAT destination: %v, want EINVAL", err)
	}
	if err := e.c.Flush(ctx); err != nil { // leaves no mixed-family destination behind (the sync daemon refuses them)
		return "", err
	}
	return "ipip, gue (port 6080, csum), gre (csum), ipv6-in-ipv4 ipip; mixed-family nat refused", nil
}

func (e *exerciser) timeouts(ctx context.Context) (string, error) {
	orig, err := e.n.Timeouts(ctx)
	if err != nil {
		return "", err
	}
	want := ipvs.Timeouts{TCP: 901 * time.Second, TCPFin: 121 * time.Second, UDP: 301 * time.Second}
	if err := e.n.SetTimeouts(ctx, want); err != nil {
		return "", err
	}
	got, err := e.n.Timeouts(ctx)
	if err != nil {
		return "", err
	}
	if got != want {
		return "", fmt.Errorf("read back %+v, want %+v", got, want)
	}
	if err := e.n.SetTimeouts(ctx, orig); err != nil {
		return "", err
	}
	if back, err := e.n.Timeouts(ctx); err != nil || back != orig {
		return "", fmt.Errorf("restore: %+v %v", back, err)
	}
	return fmt.Sprintf("defaults tcp %v tcp_fin %v udp %v; set 901/121/301 s and read back", orig.TCP, orig.TCPFin, orig.UDP), nil
}

// batchErrors applies a 300-service table in which one service has a scheduler the
// kernel lacks: that service fails alone, its destinations are skipped, the rest is
// programmed, and a second pass writes nothing more than the failed service again.
func (e *exerciser) batchErrors(ctx context.Context) (string, error) {
	if err := e.c.Flush(ctx); err != nil {
		return "", err
	}
	desired := Table(Size{300, 3})
	desired[150].Scheduler = "nosuch"
	res, err := e.r.Reconcile(ctx, desired)
	if err != nil {
		return "", err
	}
	if len(res.Errors) != 4 || !errors.Is(res.Errors[0], syscall.ENOENT) || res.Errors[0].Op.Service.Key != desired[150].Key {
		return "", fmt.Errorf("errors %v", res.Errors)
	}
	for _, oe := range res.Errors[1:] {
		if !errors.Is(oe, ipvs.ErrSkipped) {
			return "", fmt.Errorf("error %v, want skipped", oe)
		}
	}
	if res.Writes != 300+299*3 {
		return "", fmt.Errorf("%d writes", res.Writes)
	}
	good := append(desired[:150:150], desired[151:]...)
	if _, err := e.readBack(ctx, good); err != nil {
		return "", err
	}
	if res, err := e.r.Reconcile(ctx, good); err != nil || res.Writes != 0 {
		return "", fmt.Errorf("no-op pass: %d writes, %v", res.Writes, err)
	}
	return fmt.Sprintf("%d writes, 1 failed (%v), 3 skipped, 1196 applied; no-op pass 0 writes", 300+299*3, res.Errors[0].Err), nil
}

func (e *exerciser) syncDaemons(ctx context.Context) (string, error) {
	master := ipvs.SyncDaemon{State: ipvs.SyncMaster, Interface: labDirIf, SyncID: 7,
		Group: netip.MustParseAddr("239.1.1.81"), Port: 8850, TTL: 2}
	backup := ipvs.SyncDaemon{State: ipvs.SyncBackup, Interface: labDirIf, SyncID: 7}
	for _, d := range []ipvs.SyncDaemon{master, backup} {
		if err := e.n.StartSyncDaemon(ctx, d); err != nil {
			return "", fmt.Errorf("start %s: %w", d.State, err)
		}
	}
	ds, err := e.n.SyncDaemons(ctx)
	if err != nil {
		return "", err
	}
	var listed []string
	byState := map[ipvs.SyncState]ipvs.SyncDaemon{}
	for _, d := range ds {
		byState[d.State] = d
		listed = append(listed, fmt.Sprintf("%s %s syncid %d group %s:%d ttl %d maxlen %d", d.State, d.Interface, d.SyncID, d.Group, d.Port, d.TTL, d.MaxLen))
	}
	m, b := byState[ipvs.SyncMaster], byState[ipvs.SyncBackup]
	if len(ds) != 2 || m.Interface != labDirIf || m.SyncID != 7 || m.Group != master.Group || m.Port != 8850 || m.TTL != 2 ||
		b.Interface != labDirIf || b.SyncID != 7 || b.Group != netip.MustParseAddr("224.0.0.81") || b.Port != 8848 {
		return "", fmt.Errorf("listed %q", listed)
	}
	if err := e.n.StartSyncDaemon(ctx, master); !errors.Is(err, syscall.EEXIST) {
		return "", fmt.Errorf("second master: %v, want EEXIST", err)
	}
	for _, s := range []ipvs.SyncState{ipvs.SyncMaster, ipvs.SyncBackup} {
		if err := e.n.StopSyncDaemon(ctx, s); err != nil {
			return "", fmt.Errorf("stop %s: %w", s, err)
		}
	}
	if ds, err := e.n.SyncDaemons(ctx); err != nil || len(ds) != 0 {
		return "", fmt.Errorf("after stopping: %+v %v", ds, err)
	}
	return strings.Join(listed, "; ") + "; both stopped", nil
}
