package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/netcfg"
	"github.com/lvsbox/lvsbox/appliance/nic"
	"github.com/lvsbox/lvsbox/appliance/store"
	"github.com/lvsbox/lvsbox/appliance/sysctl"
)

// ReadyMessage is logged once per process after the first full apply.
const ReadyMessage = "lvsbox: ready"

// Source yields the configuration to apply (the store).
type Source interface {
	Current() (store.Revision, error)
}

// Options wire an Engine.
type Options struct {
	Store Source
	// OpenIPVS opens the IPVS kernel interface; it is retried every pass until it works.
	OpenIPVS func() (ipvs.Kernel, error)
	Net      *netcfg.Reconciler
	// Resync is the period of full passes (observe everything, repair drift); kicked
	// passes in between touch only what changed. Default 10s.
	Resync time.Duration
	Log    *slog.Logger
	Now    func() time.Time

	// NIC opens the offload/MTU/link interface (nil: NICs are not tuned); retried
	// every pass until it works.
	NIC func() (nic.Kernel, error)
	// Sysctl reads and writes the computed sysctls (nil: not managed).
	Sysctl sysctl.FS
	// Events receives a "drift" event whenever a pass repaired drift (nil: none).
	Events Publisher

	// Health, when set, decides which real servers are in the table and with what
	// weight, and when the sorry server is (see Health).
	Health Health
}

// Engine runs the reconcile loop. Pass and Run must be called from one goroutine;
// Status may be called from any.
type Engine struct {
	o      Options
	kernel ipvs.Kernel

	ready     bool
	applied   bool   // a pass has run against a config
	lastRev   uint64 // revision of the last pass
	converged bool   // the last pass ended with no errors
	prevErrs  map[string]bool

	healthStarted bool   // the kernel's table was handed to Health.Adopt
	lastHealth    uint64 // health verdict generation of the last pass

	// IPVS and tuning state (ipvs_reconcile.go, tuning.go).
	nic      nic.Kernel
	sysctls  *sysctl.Reconciler
	draining drainSet
	lastWant map[ipvs.ServiceKey]ipvs.ServiceState // desired table of the last IPVS pass
	errKeys  map[ipvs.ServiceKey]bool              // services whose writes failed in it
	table    map[ipvs.ServiceKey]ipvs.ServiceState // the kernel table as last observed
	globals  *GlobalsStatus
	// errors and problems of the last NIC/sysctl/globals pass (repeated by passes
	// that skip them)
	tuneErrs     []string
	tuneProblems []Problem
	lastIPVSUp   bool // the last pass observed the IPVS table
	nics         []NICStatus
	sysStat      []SysctlStatus

	mu     sync.Mutex
	status Status
	names  map[ipvs.ServiceKey]string // of the last pass, for metrics

	kick chan struct{} // Kick asks Run for a pass now
	gate appliedGate   // WaitApplied
}

// New returns an Engine; nothing runs until Pass or Run.
func New(o Options) *Engine {
	if o.Resync <= 0 {
		o.Resync = DefaultResync
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Engine{o: o, prevErrs: map[string]bool{}, kick: make(chan struct{}, 1),
		sysctls: &sysctl.Reconciler{FS: o.Sysctl}, draining: drainSet{}}
}

// Kick makes Run pass as soon as the current pass (if any) ends, e.g. after a commit,
// instead of at the next resync. It never blocks; kicks during a pass coalesce.
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Status returns a copy of the current status.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status.clone()
}

// Run passes immediately (full) and then: a full pass every Resync, an incremental
// pass (only the services whose desired state changed) at once after Kick, and one
// when a drain deadline is due. It returns nil on cancellation and leaves all kernel
// state as it is.
func (e *Engine) Run(ctx context.Context) error {
	defer e.closeKernel()
	defer e.closeNIC()
	full := time.NewTimer(0)
	defer full.Stop()
	drain := time.NewTimer(time.Hour)
	defer drain.Stop()
	for {
		isFull := false
		select {
		case <-ctx.Done():
			return nil
		case <-full.C:
			isFull = true
		case <-e.kick:
		case <-drain.C:
		}
		e.pass(ctx, isFull)
		if isFull {
			full.Reset(e.o.Resync)
		}
		next := time.Hour
		if dl := e.draining.nextDeadline(); !dl.IsZero() {
			next = max(dl.Sub(e.o.Now()), time.Millisecond)
		}
		if !drain.Stop() {
			select {
			case <-drain.C:
			default:
			}
		}
		drain.Reset(next)
	}
}

// DefaultResync is the default period of full passes.
const DefaultResync = 10 * time.Second

// PassResult summarises one pass.
type PassResult struct {
	Revision uint64
	Writes   int
	NetOps   []netcfg.Op
	IPVSOps  []ipvs.Op
	Errors   []string
	Drift    bool // writes repaired a kernel that had converged on this revision before
	IPVSUp   bool // the IPVS table was observed
	// Incremental: only services whose desired state changed were read and written.
	Incremental bool
	// TuneOps are the NIC, sysctl and IPVS-globals writes.
	TuneOps []string
	// Problems are the objects that could not be brought to their desired state,
	// named by their configuration path.
	Problems []Problem

	drainWrites int // writes that ended a drain on schedule (not drift)
	retryWrites int // writes retrying objects that failed in the previous pass
}

// Pass loads the configuration and reconciles everything once (a full pass).
func (e *Engine) Pass(ctx context.Context) PassResult { return e.pass(ctx, true) }

// pass reconciles once; a pass that is not full looks only at what changed.
func (e *Engine) pass(ctx context.Context, full bool) PassResult {
	start := e.o.Now()
	var res PassResult
	rev, cfg, err := e.load()
	if err != nil {
		res.Errors = append(res.Errors, err.Error())
		e.logErrors(res.Errors)
		e.finish(start, res, nil, nil, nil)
		return res
	}
	res.Revision = rev.Number
	d := Compile(cfg)
	var healthGen uint64
	if e.o.Health != nil {
		healthGen = e.healthPass(ctx, rev.Number, cfg, &d)
	}

	netRes, err := e.o.Net.Reconcile(ctx, d.Net)
	if err != nil {
		return res // cancelled: leave everything as it is
	}
	res.NetOps, res.Writes = netRes.Ops, netRes.Writes
	if e.applied && !e.converged {
		res.retryWrites += netRes.Writes // host writes after a pass with errors may be retries
	}
	for _, err := range netRes.Errors {
		res.Errors = append(res.Errors, err.Error())
	}

	newRev := !e.applied || rev.Number != e.lastRev
	ipvsUp := e.ensureKernel() == nil
	e.tunePass(ctx, d, &res, (full || newRev) && rev.Number != 0, ipvsUp) // an empty store tunes nothing
	observed, ipvsErr := e.reconcileIPVS(ctx, d, &res, full)
	if ctx.Err() != nil {
		return res
	}
	if ipvsErr != nil {
		res.Errors = append(res.Errors, ipvsErr.Error())
	}
	// Drift: writes on an unchanged revision and health state, other than drains
	// ending on schedule and retries of objects that failed before (everything is a
	// first apply when IPVS was unavailable in the last pass).
	if !e.lastIPVSUp {
		res.retryWrites = res.Writes - res.drainWrites
	}
	res.Drift = e.applied && rev.Number == e.lastRev && healthGen == e.lastHealth && res.Writes-res.drainWrites-res.retryWrites > 0

	e.logErrors(res.Errors)
	e.logPass(res)
	if !e.ready && res.IPVSUp {
		e.ready = true
		dests := 0
		for _, s := range observed {
			dests += len(s.Destinations)
		}
		e.o.Log.Info(ReadyMessage, "revision", res.Revision, "services", len(observed), "real_servers", dests,
			"writes", res.Writes, "errors", len(res.Errors), "took", e.o.Now().Sub(start).Round(time.Millisecond))
	}
	e.applied, e.lastRev, e.converged, e.lastHealth = true, rev.Number, len(res.Errors) == 0, healthGen
	e.lastIPVSUp = res.IPVSUp
	e.finish(start, res, &rev, &cfg, func(st *Status) {
		st.IPVS = IPVSStatus{Available: res.IPVSUp, Services: serviceStatus(observed, d.Names)}
		if ipvsErr != nil {
			st.IPVS.Error = ipvsErr.Error()
		}
		e.extendStatus(st, res)
		e.names = d.Names
	})
	e.gate.passed(res.Revision)
	return res
}

// load returns the current revision and its configuration; an empty store is
// revision 0 with the empty configuration.
func (e *Engine) load() (store.Revision, config.Config, error) {
	rev, err := e.o.Store.Current()
	if err != nil {
		return rev, config.Config{}, fmt.Errorf("engine: load configuration: %w", err)
	}
	return rev, rev.Config, nil
}

func (e *Engine) closeKernel() {
	if c, ok := e.kernel.(interface{ Close() }); ok {
		c.Close()
	}
	e.kernel = nil
}

// logErrors logs errors that are new since the last pass and those that went away,
// so that a persistent problem is logged once, not every resync.
func (e *Engine) logErrors(errs []string) {
	now := make(map[string]bool, len(errs))
	for _, msg := range errs {
		now[msg] = true
		if !e.prevErrs[msg] {
			e.o.Log.Error("reconcile problem", "error", msg)
		}
	}
	for msg := range e.prevErrs {
		if !now[msg] {
			e.o.Log.Info("reconcile problem resolved", "error", msg)
		}
	}
	e.prevErrs = now
}

// maxLoggedOps bounds the op list in one log line.
const maxLoggedOps = 20

func (e *Engine) logPass(res PassResult) {
	if res.Writes == 0 {
		e.o.Log.Debug("pass", "revision", res.Revision, "writes", 0)
		return
	}
	var ops []string
	for _, op := range res.NetOps {
		ops = append(ops, op.String())
	}
	ops = append(ops, res.TuneOps...)
	for _, op := range res.IPVSOps {
		ops = append(ops, op.String())
	}
	if len(ops) > maxLoggedOps {
		ops = append(ops[:maxLoggedOps], fmt.Sprintf("... and %d more", len(ops)-maxLoggedOps))
	}
	if res.Drift {
		e.o.Log.Warn("drift repaired: kernel state had changed behind lvsbox's back", "revision", res.Revision, "writes", res.Writes, "repaired", ops)
		e.publishDrift(res, ops)
		return
	}
	e.o.Log.Info("pass", "revision", res.Revision, "writes", res.Writes, "ops", ops)
}

// finish records the pass in the status; set, when non-nil, fills IPVS details.
func (e *Engine) finish(start time.Time, res PassResult, rev *store.Revision, cfg *config.Config, set func(*Status)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := &e.status
	st.Passes++
	st.Ready = e.ready
	st.LastPass = &PassInfo{Time: start.UTC(), Duration: e.o.Now().Sub(start).Round(time.Microsecond).String(),
		Writes: res.Writes, Errors: append([]string{}, res.Errors...)}
	if rev != nil {
		st.Revision = nil
		if rev.Number != 0 {
			st.Revision = &RevisionInfo{Number: rev.Number, Time: rev.Time, Comment: rev.Comment}
		}
		st.ConfigHostname = cfg.System.Hostname
	}
	if set != nil {
		set(st)
	}
}
