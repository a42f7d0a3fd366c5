package main

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// traffic runs the NAT checks through the lab: connections spread by rr, stats read
// back, and in-place edits (scheduler, weight 0) that keep an established
// connection working and the service's counters (no delete and re-add).
func (e *exerciser) traffic(ctx context.Context) {
	vip := netip.AddrPortFrom(netip.MustParseAddr(labVIP), 80)
	key := ipvs.AddrKey(ipvs.TCP, vip.Addr(), vip.Port())
	desired := []ipvs.ServiceState{{Service: ipvs.Service{Key: key, Scheduler: "rr", Netmask: 32}}}
	for _, r := range labRS {
		desired[0].Destinations = append(desired[0].Destinations, rsv(r.addr, 80, ipvs.NAT, 1))
	}
	const conns = 20
	var long *session
	defer func() {
		if long != nil {
			long.c.Close()
		}
	}()

	e.chk.check("nat_traffic", func() (string, error) {
		if _, err := e.program(ctx, desired); err != nil {
			return "", err
		}
		counts, err := connect(vip, conns)
		if err != nil {
			return "", err
		}
		if counts["rs1"] != conns/2 || counts["rs2"] != conns/2 {
			return "", fmt.Errorf("answers %v, want %d each (rr)", counts, conns/2)
		}
		return fmt.Sprintf("%d connections through %s: %v", conns, vip, counts), nil
	})

	// The kernel folds its per-CPU counters into the totals it reports from the
	// estimator, every 2 s: counters lag traffic by up to that.
	e.chk.check("stats", func() (string, error) {
		var st ipvs.Stats
		start := time.Now()
		err := waitFor(ctx, statsLag, func() error {
			s, ok, err := e.n.Service(ctx, key)
			if err != nil || !ok {
				return fmt.Errorf("read service: %v (present %v)", err, ok)
			}
			st = s.Stats
			if st.Connections != conns || st.InPackets == 0 || st.OutPackets == 0 || st.InBytes == 0 || st.OutBytes == 0 {
				return fmt.Errorf("service stats %+v, want %d connections and packets/bytes both ways", st, conns)
			}
			for _, d := range s.Destinations {
				if d.Stats.Connections != conns/2 || d.Stats.OutBytes == 0 {
					return fmt.Errorf("real server %s stats %+v", d.Key, d.Stats)
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("service conns %d in %d pkts/%d B out %d pkts/%d B; per real server %d conns (after %v)",
			st.Connections, st.InPackets, st.InBytes, st.OutPackets, st.OutBytes, conns/2, time.Since(start).Round(time.Millisecond)), nil
	})

	e.chk.check("stats_rates", func() (string, error) {
		var last ipvs.Stats
		err := waitFor(ctx, 10*time.Second, func() error { // the kernel estimates every 2 s
			s, _, err := e.n.Service(ctx, key)
			if err != nil {
				return err
			}
			last = s.Stats
			if last.InByteRate == 0 || last.OutByteRate == 0 || last.InPacketRate == 0 {
				return fmt.Errorf("rates still zero: %+v", last)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("cps %d in %d pps/%d Bps out %d pps/%d Bps", last.ConnectionRate, last.InPacketRate, last.InByteRate, last.OutPacketRate, last.OutByteRate), nil
	})

	e.chk.check("edit_scheduler_keeps_connection", func() (string, error) {
		var err error
		if long, err = dialVIP(vip); err != nil {
			return "", err
		}
		desired[0].Scheduler = "wlc"
		res, err := e.r.Reconcile(ctx, desired)
		if err != nil {
			return "", err
		}
		if len(res.Ops) != 1 || res.Ops[0].Kind != ipvs.UpdateService || len(res.Errors) != 0 {
			return "", fmt.Errorf("ops %v errors %v, want one in-place update", res.Ops, res.Errors)
		}
		var s ipvs.ServiceState
		err = waitFor(ctx, statsLag, func() (err error) {
			if s, _, err = e.n.Service(ctx, key); err != nil {
				return err
			}
			if s.Scheduler != "wlc" || s.Stats.Connections != conns+1 {
				return fmt.Errorf("after the edit: scheduler %s, %d connections counted, want %d (a re-added service starts at 0)", s.Scheduler, s.Stats.Connections, conns+1)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		if err := long.echo("after scheduler change"); err != nil {
			return "", fmt.Errorf("established connection to %s broke: %w", long.rs, err)
		}
		return fmt.Sprintf("rr -> wlc by 1 update; counters kept (%d); connection to %s still echoes", s.Stats.Connections, long.rs), nil
	})

	e.chk.check("drain_weight_zero", func() (string, error) {
		if long == nil {
			return "", fmt.Errorf("no established connection (previous check failed)")
		}
		var drained, other string
		for i, r := range labRS {
			if r.name == long.rs {
				desired[0].Destinations[i].Weight = 0
				drained = r.name
			} else {
				other = r.name
			}
		}
		res, err := e.r.Reconcile(ctx, desired)
		if err != nil {
			return "", err
		}
		if len(res.Ops) != 1 || res.Ops[0].Kind != ipvs.UpdateDestination || len(res.Errors) != 0 {
			return "", fmt.Errorf("ops %v errors %v, want one in-place destination update", res.Ops, res.Errors)
		}
		s, _, err := e.n.Service(ctx, key)
		if err != nil {
			return "", err
		}
		for _, d := range s.Destinations {
			if d.Weight == 0 && d.ActiveConns < 1 {
				return "", fmt.Errorf("drained %s shows %d active connections, want the established one", d.Key, d.ActiveConns)
			}
		}
		counts, err := connect(vip, 6)
		if err != nil {
			return "", err
		}
		if counts[other] != 6 {
			return "", fmt.Errorf("new connections went to %v, want all 6 to %s", counts, other)
		}
		if err := long.echo("while draining"); err != nil {
			return "", fmt.Errorf("established connection to drained %s broke: %w", drained, err)
		}
		return fmt.Sprintf("%s weight 0 by 1 update: established connection continues, 6 new ones all to %s", drained, other), nil
	})
}

// statsLag bounds how long the kernel takes to show traffic in its counters.
const statsLag = 10 * time.Second

// connect makes n sequential connections to vip and counts the greeting real
// servers.
func connect(vip netip.AddrPort, n int) (map[string]int, error) {
	counts := map[string]int{}
	for range n {
		s, err := dialVIP(vip)
		if err != nil {
			return counts, err
		}
		counts[s.rs]++
		s.c.Close()
	}
	return counts, nil
}
