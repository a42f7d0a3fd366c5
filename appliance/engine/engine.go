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
	"github.com/lvsbox/lvsbox/appliance/store"
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
	Resync   time.Duration // default 5s
	Log      *slog.Logger
	Now      func() time.Time
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

	mu     sync.Mutex
	status Status

	kick chan struct{} // Kick asks Run for a pass now
}

// New returns an Engine; nothing runs until Pass or Run.
func New(o Options) *Engine {
	if o.Resync <= 0 {
		o.Resync = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Engine{o: o, prevErrs: map[string]bool{}, kick: make(chan struct{}, 1)}
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

// Run passes immediately and then every Resync (or at once after Kick) until ctx is
// done. It returns nil on
// cancellation and leaves all kernel state as it is.
func (e *Engine) Run(ctx context.Context) error {
	defer e.closeKernel()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-e.kick:
		}
		e.Pass(ctx)
		t.Reset(e.o.Resync)
	}
}

// PassResult summarises one pass.
type PassResult struct {
	Revision uint64
	Writes   int
	NetOps   []netcfg.Op
	IPVSOps  []ipvs.Op
	Errors   []string
	Drift    bool // writes repaired a kernel that had converged on this revision before
	IPVSUp   bool // the IPVS table was observed
}

// Pass loads the configuration and reconciles once.
func (e *Engine) Pass(ctx context.Context) PassResult {
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

	netRes, err := e.o.Net.Reconcile(ctx, d.Net)
	if err != nil {
		return res // cancelled: leave everything as it is
	}
	res.NetOps, res.Writes = netRes.Ops, netRes.Writes
	for _, err := range netRes.Errors {
		res.Errors = append(res.Errors, err.Error())
	}

	observed, ipvsErr := e.reconcileIPVS(ctx, d, &res)
	if ctx.Err() != nil {
		return res
	}
	if ipvsErr != nil {
		res.Errors = append(res.Errors, ipvsErr.Error())
	}
	res.Drift = e.applied && e.converged && rev.Number == e.lastRev && res.Writes > 0

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
	e.applied, e.lastRev, e.converged = true, rev.Number, len(res.Errors) == 0
	e.finish(start, res, &rev, &cfg, func(st *Status) {
		st.IPVS = IPVSStatus{Available: res.IPVSUp, Services: serviceStatus(observed, d.Names)}
		if ipvsErr != nil {
			st.IPVS.Error = ipvsErr.Error()
		}
	})
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

// reconcileIPVS opens the kernel interface if needed and reconciles the table. It
// returns the table as it is after the pass.
func (e *Engine) reconcileIPVS(ctx context.Context, d Desired, res *PassResult) ([]ipvs.ServiceState, error) {
	if e.kernel == nil {
		k, err := e.o.OpenIPVS()
		if err != nil {
			return nil, err
		}
		e.kernel = k
	}
	r, err := (&ipvs.Reconciler{Kernel: e.kernel}).Reconcile(ctx, d.IPVS)
	if err != nil {
		if ctx.Err() == nil {
			e.closeKernel() // reopen next pass
		}
		return nil, err
	}
	res.IPVSUp = true
	res.IPVSOps = r.Ops
	res.Writes += r.Writes
	for _, oe := range r.Errors {
		res.Errors = append(res.Errors, oe.Error())
	}
	if r.Writes == 0 {
		return r.Observed, nil
	}
	after, err := e.kernel.Services(ctx)
	if err != nil {
		return r.Observed, fmt.Errorf("ipvs: list services after apply: %w", err)
	}
	return after, nil
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
	for _, op := range res.IPVSOps {
		ops = append(ops, op.String())
	}
	if len(ops) > maxLoggedOps {
		ops = append(ops[:maxLoggedOps], fmt.Sprintf("... and %d more", len(ops)-maxLoggedOps))
	}
	if res.Drift {
		e.o.Log.Warn("drift repaired: kernel state had changed behind lvsbox's back", "revision", res.Revision, "writes", res.Writes, "repaired", ops)
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
