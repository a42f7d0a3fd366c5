package vrrpd

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"reflect"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// scripts runs the tracked vrrp_scripts (keepalived's vrrp_script): each
// every interval, exit 0 = success, rise/fall results in a row change the
// state. A script's state is unknown until its first change.
type scripts struct {
	run     func(ctx context.Context, s config.VRRPScript) error
	log     *slog.Logger
	changed chan struct{}
	running map[string]*scriptRun

	mu     sync.Mutex
	states map[string]bool
}

type scriptRun struct {
	cfg    config.VRRPScript
	cancel context.CancelFunc
	done   chan struct{}
}

func newScripts(run func(ctx context.Context, s config.VRRPScript) error, log *slog.Logger) *scripts {
	if run == nil {
		run = execScript
	}
	return &scripts{run: run, log: log, changed: make(chan struct{}, 1), running: map[string]*scriptRun{}, states: map[string]bool{}}
}

// execScript runs the script with its timeout.
func execScript(ctx context.Context, s config.VRRPScript) error {
	to := time.Duration(s.Timeout)
	if to <= 0 {
		to = time.Duration(s.Interval)
	}
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	if err := exec.CommandContext(ctx, s.Path, s.Args...).Run(); err != nil {
		return fmt.Errorf("vrrp script %s: %w", s.Name, err)
	}
	return nil
}

// configure runs exactly the given scripts (changed ones restart).
func (sc *scripts) configure(want map[string]config.VRRPScript) {
	for name, r := range sc.running {
		if w, ok := want[name]; !ok || !reflect.DeepEqual(w, r.cfg) {
			r.cancel()
			<-r.done
			delete(sc.running, name)
			sc.mu.Lock()
			delete(sc.states, name)
			sc.mu.Unlock()
		}
	}
	for name, w := range want {
		if sc.running[name] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &scriptRun{cfg: w, cancel: cancel, done: make(chan struct{})}
		sc.running[name] = r
		go sc.loop(ctx, r)
	}
}

func (sc *scripts) stopAll() { sc.configure(nil) }

func (sc *scripts) loop(ctx context.Context, r *scriptRun) {
	defer close(r.done)
	s := r.cfg
	interval := time.Duration(s.Interval)
	if interval <= 0 {
		interval = time.Duration(config.DefaultScriptInterval)
	}
	rise, fall := max(s.Rise, 1), max(s.Fall, 1)
	var ok, bad int
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := sc.run(ctx, s)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			ok, bad = ok+1, 0
		} else {
			ok, bad = 0, bad+1
		}
		switch {
		case ok == rise:
			sc.set(s.Name, true, nil)
		case bad == fall:
			sc.set(s.Name, false, err)
		}
		t.Reset(interval)
	}
}

func (sc *scripts) set(name string, up bool, err error) {
	sc.mu.Lock()
	old, known := sc.states[name]
	sc.states[name] = up
	sc.mu.Unlock()
	if known && old == up {
		return
	}
	sc.log.Info("vrrp: script state", "script", name, "up", up, "error", err)
	select {
	case sc.changed <- struct{}{}:
	default:
	}
}

// state is the script's state (known: it has one).
func (sc *scripts) state(name string) (up, known bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	up, known = sc.states[name]
	return up, known
}
