package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
)

// drainSet holds, per service, the real servers being drained (removed from the
// configuration, kept at weight 0) and when each is deleted.
type drainSet map[ipvs.ServiceKey]map[ipvs.DestinationKey]time.Time

// applyDrain returns desired with the real servers that were removed from the
// configuration (or disabled) but are still in observed kept at weight 0 until their
// drain deadline, and the drain set after this pass. Real servers the health checker
// removed, sorry servers, and every real server when drain is 0 are not kept (they
// are deleted at once); so are whole services. It is pure: only the services in
// observed are looked at, the drains of other services are carried over.
func applyDrain(desired []ipvs.ServiceState, d Desired, observed []ipvs.ServiceState, draining drainSet, now time.Time, drain time.Duration) ([]ipvs.ServiceState, drainSet) {
	next := drainSet{}
	obs := make(map[ipvs.ServiceKey]*ipvs.ServiceState, len(observed))
	for i := range observed {
		obs[observed[i].Key] = &observed[i]
	}
	for k, m := range draining {
		if _, looked := obs[k]; !looked {
			next[k] = maps.Clone(m)
		}
	}
	out := make([]ipvs.ServiceState, len(desired))
	for i, s := range desired {
		out[i] = s
		o, ok := obs[s.Key]
		if !ok || drain <= 0 {
			continue
		}
		want := make(map[ipvs.DestinationKey]bool, len(s.Destinations))
		for _, dst := range s.Destinations {
			want[dst.Key] = true
		}
		configured := d.Paths[s.Key].Dests
		sorry, hasSorry := d.Sorry[s.Key]
		var kept []ipvs.Destination
		for _, od := range o.Destinations {
			if want[od.Key] {
				continue
			}
			if _, ok := configured[od.Key]; ok || (hasSorry && sorry.Key == od.Key) {
				continue // removed by health (or the sorry server's turn is over): delete now
			}
			deadline, ok := draining[s.Key][od.Key]
			if !ok {
				deadline = now.Add(drain)
			}
			if !now.Before(deadline) {
				continue // drained: delete
			}
			if next[s.Key] == nil {
				next[s.Key] = map[ipvs.DestinationKey]time.Time{}
			}
			next[s.Key][od.Key] = deadline
			kd := od
			kd.Weight = 0
			kd.ActiveConns, kd.InactiveConns, kd.PersistConns, kd.Stats = 0, 0, 0, ipvs.Stats{}
			kept = append(kept, kd)
		}
		if len(kept) > 0 {
			out[i].Destinations = append(slices.Clone(s.Destinations), kept...)
		}
	}
	return out, next
}

// nextDeadline is the earliest drain deadline (zero when nothing drains).
func (ds drainSet) nextDeadline() time.Time {
	var t time.Time
	for _, m := range ds {
		for _, dl := range m {
			if t.IsZero() || dl.Before(t) {
				t = dl
			}
		}
	}
	return t
}

// due lists the services with a drain deadline at or before now.
func (ds drainSet) due(now time.Time) []ipvs.ServiceKey {
	var out []ipvs.ServiceKey
	for k, m := range ds {
		for _, dl := range m {
			if !now.Before(dl) {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// sameState reports whether two desired services need the same kernel state.
func sameState(a, b ipvs.ServiceState) bool {
	if a.Service != b.Service || len(a.Destinations) != len(b.Destinations) {
		return false
	}
	cmp := func(x, y ipvs.Destination) int { return x.Key.Compare(y.Key) }
	return slices.Equal(slices.SortedFunc(slices.Values(a.Destinations), cmp), slices.SortedFunc(slices.Values(b.Destinations), cmp))
}

// changedKeys lists the services whose desired state differs between last and
// want (added, changed or removed).
func changedKeys(last map[ipvs.ServiceKey]ipvs.ServiceState, want []ipvs.ServiceState) []ipvs.ServiceKey {
	var out []ipvs.ServiceKey
	seen := make(map[ipvs.ServiceKey]bool, len(want))
	for _, s := range want {
		seen[s.Key] = true
		if l, ok := last[s.Key]; !ok || !sameState(l, s) {
			out = append(out, s.Key)
		}
	}
	for k := range last {
		if !seen[k] {
			out = append(out, k)
		}
	}
	return out
}

// objectPath names the configuration object an IPVS write was for.
func objectPath(d Desired, op ipvs.Op, draining bool) string {
	p, ok := d.Paths[op.Service.Key]
	if !ok {
		return fmt.Sprintf("ipvs service %s (not in the configuration)", op.Service.Key)
	}
	if op.Kind < ipvs.AddDestination {
		return p.Service
	}
	if dp, ok := p.Dests[op.Dest.Key]; ok {
		return dp
	}
	if s, ok := d.Sorry[op.Service.Key]; ok && s.Key == op.Dest.Key {
		return p.Service + ".sorry_server"
	}
	if draining {
		return fmt.Sprintf("%s real server %s (draining: removed from the configuration)", p.Service, op.Dest.Key)
	}
	return fmt.Sprintf("%s real server %s (not in the configuration)", p.Service, op.Dest.Key)
}

// Problem is one object the last pass could not bring to its desired state.
type Problem struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// reconcileIPVS opens the kernel interface if needed and reconciles the table:
// everything when full, else only the services whose desired state changed since
// the last pass, failed in it, or have a drain deadline due. It returns the table as
// it is after the pass (the last full observation with the services looked at now
// refreshed).
func (e *Engine) reconcileIPVS(ctx context.Context, d Desired, res *PassResult, full bool) ([]ipvs.ServiceState, error) {
	if err := e.ensureKernel(); err != nil {
		return nil, err
	}
	now := e.o.Now()
	rec := &ipvs.Reconciler{Kernel: e.kernel}
	if e.lastWant == nil {
		full = true
	}
	var observed []ipvs.ServiceState
	var keys []ipvs.ServiceKey
	var err error
	if full {
		observed, err = e.kernel.Services(ctx)
		if err != nil {
			err = fmt.Errorf("ipvs: list services: %w", err)
		}
	} else {
		set := map[ipvs.ServiceKey]bool{}
		for _, k := range changedKeys(e.lastWant, d.IPVS) {
			set[k] = true
		}
		for k := range e.errKeys {
			set[k] = true
		}
		for _, k := range e.draining.due(now) {
			set[k] = true
		}
		keys = slices.SortedFunc(maps.Keys(set), ipvs.ServiceKey.Compare)
		if len(keys) > 0 {
			observed, err = rec.Observe(ctx, keys)
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			e.closeKernel() // reopen next pass
		}
		return nil, err
	}
	res.IPVSUp = true
	res.Incremental = !full

	desired := d.IPVS
	if !full {
		want := make(map[ipvs.ServiceKey]bool, len(keys))
		for _, k := range keys {
			want[k] = true
		}
		desired = slices.DeleteFunc(slices.Clone(d.IPVS), func(s ipvs.ServiceState) bool { return !want[s.Key] })
	}
	desired, draining := applyDrain(desired, d, observed, e.draining, now, d.DrainTime)
	r, err := rec.ReconcileObserved(ctx, desired, observed)
	if err != nil {
		return nil, err
	}
	for _, op := range r.Ops {
		if _, was := e.draining[op.Service.Key][op.Dest.Key]; was && op.Kind == ipvs.DeleteDestination {
			res.drainWrites++ // a drain that ended on schedule
		} else if e.errKeys[op.Service.Key] {
			res.retryWrites++ // the service failed last time
		}
	}
	e.draining = draining
	res.IPVSOps = append(res.IPVSOps, r.Ops...)
	res.Writes += r.Writes

	errKeys := map[ipvs.ServiceKey]bool{}
	if !full {
		for k := range e.errKeys {
			if !slices.Contains(keys, k) {
				errKeys[k] = true
			}
		}
	}
	var problems []Problem
	for _, oe := range r.Errors {
		_, drained := draining[oe.Op.Service.Key][oe.Op.Dest.Key]
		p := Problem{Path: objectPath(d, oe.Op, drained), Error: oe.Error()}
		problems = append(problems, p)
		res.Errors = append(res.Errors, p.Path+": "+p.Error)
		errKeys[oe.Op.Service.Key] = true
	}
	e.errKeys = errKeys
	res.Problems = append(res.Problems, problems...)
	e.lastWant = make(map[ipvs.ServiceKey]ipvs.ServiceState, len(d.IPVS))
	for _, s := range d.IPVS {
		e.lastWant[s.Key] = s
	}

	// The table after the pass, for status.
	if full {
		e.table = map[ipvs.ServiceKey]ipvs.ServiceState{}
		after := observed
		if r.Writes > 0 {
			if after, err = e.kernel.Services(ctx); err != nil {
				return tableList(e.table), fmt.Errorf("ipvs: list services after apply: %w", err)
			}
		}
		for _, s := range after {
			e.table[s.Key] = s
		}
		return after, nil
	}
	if e.table == nil {
		e.table = map[ipvs.ServiceKey]ipvs.ServiceState{}
	}
	fresh := observed
	if r.Writes > 0 {
		if fresh, err = rec.Observe(ctx, keys); err != nil {
			return tableList(e.table), err
		}
	}
	for _, k := range keys {
		delete(e.table, k)
	}
	for _, s := range fresh {
		e.table[s.Key] = s
	}
	return tableList(e.table), nil
}

func tableList(t map[ipvs.ServiceKey]ipvs.ServiceState) []ipvs.ServiceState {
	return slices.SortedFunc(maps.Values(t), func(a, b ipvs.ServiceState) int { return a.Key.Compare(b.Key) })
}

func (e *Engine) ensureKernel() error {
	if e.kernel != nil {
		return nil
	}
	k, err := e.o.OpenIPVS()
	if err != nil {
		return err
	}
	e.kernel = k
	return nil
}

// GlobalsStatus is the kernel-wide IPVS state after the last pass.
type GlobalsStatus struct {
	Version     string             `json:"version,omitempty"`
	Timeouts    *TimeoutsStatus    `json:"timeouts,omitempty"`
	SyncDaemons []SyncDaemonStatus `json:"sync_daemons"`
}

// TimeoutsStatus are the IPVS connection timeouts, in seconds.
type TimeoutsStatus struct {
	TCP    int `json:"tcp"`
	TCPFin int `json:"tcp_fin"`
	UDP    int `json:"udp"`
}

// SyncDaemonStatus is one running connection-sync daemon.
type SyncDaemonStatus struct {
	State     string `json:"state"`
	Interface string `json:"interface"`
	SyncID    int    `json:"sync_id"`
	Group     string `json:"group,omitempty"`
	Port      int    `json:"port,omitempty"`
	TTL       int    `json:"ttl,omitempty"`
}

const (
	pathTimeouts   = "ipvs.timeouts"
	pathSyncDaemon = "ipvs.sync_daemon"
)

// reconcileGlobals brings the timeouts and sync daemons to want (when the kernel
// offers the Globals interface): observe, compare, write only differences. A
// daemon whose settings differ is stopped and started again.
func (e *Engine) reconcileGlobals(ctx context.Context, want IPVSGlobals, res *PassResult) *GlobalsStatus {
	g, ok := e.kernel.(ipvs.Globals)
	if !ok {
		return nil
	}
	st := &GlobalsStatus{SyncDaemons: []SyncDaemonStatus{}}
	fail := func(path, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		res.Problems = append(res.Problems, Problem{Path: path, Error: msg})
		res.Errors = append(res.Errors, path+": "+msg)
	}
	if info, err := g.Info(ctx); err == nil {
		st.Version = info.Version
	}
	cur, err := g.Timeouts(ctx)
	if err != nil {
		return nil // the kernel interface failed: the table's observation reports it
	}
	{
		sec := func(d time.Duration) time.Duration { return d.Truncate(time.Second) }
		w := want.Timeouts
		if sec(w.TCP) != sec(cur.TCP) || sec(w.TCPFin) != sec(cur.TCPFin) || sec(w.UDP) != sec(cur.UDP) {
			res.Writes++
			op := fmt.Sprintf("set ipvs timeouts tcp %v->%v, tcp_fin %v->%v, udp %v->%v", cur.TCP, w.TCP, cur.TCPFin, w.TCPFin, cur.UDP, w.UDP)
			if err := g.SetTimeouts(ctx, w); err != nil {
				fail(pathTimeouts, "ipvs: %s: %v", op, err)
			} else {
				res.TuneOps = append(res.TuneOps, op)
				cur = ipvs.Timeouts{TCP: sec(w.TCP), TCPFin: sec(w.TCPFin), UDP: sec(w.UDP)}
			}
		}
		st.Timeouts = &TimeoutsStatus{TCP: int(cur.TCP / time.Second), TCPFin: int(cur.TCPFin / time.Second), UDP: int(cur.UDP / time.Second)}
	}

	running, err := g.SyncDaemons(ctx)
	if err != nil {
		fail(pathSyncDaemon, "ipvs: list sync daemons: %v", err)
		return st
	}
	byState := map[ipvs.SyncState]ipvs.SyncDaemon{}
	for _, d := range running {
		byState[d.State] = d
	}
	wanted := map[ipvs.SyncState]bool{}
	for _, w := range want.SyncDaemons {
		wanted[w.State] = true
		if cur, ok := byState[w.State]; ok && sameDaemon(w, cur) {
			continue
		} else if ok {
			res.Writes++
			if err := g.StopSyncDaemon(ctx, w.State); err != nil {
				fail(pathSyncDaemon, "ipvs: stop %s sync daemon (settings changed): %v", w.State, err)
				continue
			}
			delete(byState, w.State)
			res.TuneOps = append(res.TuneOps, fmt.Sprintf("stop %s sync daemon on %s (settings changed)", w.State, cur.Interface))
		}
		res.Writes++
		if err := g.StartSyncDaemon(ctx, w); err != nil {
			fail(pathSyncDaemon, "ipvs: start %s sync daemon on %s (sync id %d): %v", w.State, w.Interface, w.SyncID, err)
			continue
		}
		byState[w.State] = w
		res.TuneOps = append(res.TuneOps, fmt.Sprintf("start %s sync daemon on %s (sync id %d)", w.State, w.Interface, w.SyncID))
	}
	for state, cur := range byState {
		if wanted[state] {
			continue
		}
		res.Writes++
		if err := g.StopSyncDaemon(ctx, state); err != nil {
			fail(pathSyncDaemon, "ipvs: stop %s sync daemon: %v", state, err)
			continue
		}
		delete(byState, state)
		res.TuneOps = append(res.TuneOps, fmt.Sprintf("stop %s sync daemon on %s (not configured)", state, cur.Interface))
	}
	for _, state := range slices.Sorted(maps.Keys(byState)) {
		d := byState[state]
		ds := SyncDaemonStatus{State: d.State.String(), Interface: d.Interface, SyncID: int(d.SyncID), Port: int(d.Port), TTL: int(d.TTL)}
		if d.Group.IsValid() {
			ds.Group = d.Group.String()
		}
		st.SyncDaemons = append(st.SyncDaemons, ds)
	}
	return st
}

// sameDaemon compares a wanted daemon with a running one; unset optional fields of
// the wanted one (zero group, port, TTL, maxlen) accept the kernel's defaults.
func sameDaemon(want, cur ipvs.SyncDaemon) bool {
	return want.Interface == cur.Interface && want.SyncID == cur.SyncID &&
		(!want.Group.IsValid() || want.Group == cur.Group) &&
		(want.Port == 0 || want.Port == cur.Port) &&
		(want.TTL == 0 || want.TTL == cur.TTL) &&
		(want.MaxLen == 0 || want.MaxLen == cur.MaxLen)
}
