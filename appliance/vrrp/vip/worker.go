package vip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// retryAfter is how long a failed apply waits before the next attempt.
const retryAfter = time.Second

// Worker applies one instance's master/backup state to the host in its own
// goroutine (Run). Its methods never block on the kernel.
type Worker struct {
	spec Spec // Run's goroutine only (after NewWorker)
	dev  string
	vmac *VMAC // immutable copy for SetSpec's check
	k    Kernel
	a    Announcer
	log  *slog.Logger

	mu          sync.Mutex
	wantMaster  bool
	next        *Spec // a spec handed to SetSpec, not yet taken by Run
	announceSeq uint64
	closing     bool
	kick        chan struct{}
	done        chan struct{}

	smu    sync.Mutex
	status Status
}

// NewWorker checks spec and returns a worker that holds nothing yet; call Run.
func NewWorker(spec Spec, k Kernel, a Announcer, log *slog.Logger) (*Worker, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	spec = spec.clone()
	var vm *VMAC
	if spec.VMAC != nil {
		c := *spec.VMAC
		vm = &c
	}
	return &Worker{spec: spec, dev: spec.dev(), vmac: vm, k: k, a: a, log: log, kick: make(chan struct{}, 1), done: make(chan struct{})}, nil
}

// SetSpec replaces the virtual addresses, routes and announce settings live;
// the interface and the virtual MAC must stay the same. As master, addresses
// and routes that are no longer in the spec are removed, new ones added (and
// a fresh announce burst sent); those in both are not touched, so they never
// flap. As backup nothing is held, so only the spec changes. It returns at
// once.
func (w *Worker) SetSpec(spec Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	if spec.dev() != w.dev || (spec.VMAC == nil) != (w.vmac == nil) ||
		spec.VMAC != nil && (spec.VMAC.Name != w.vmac.Name || spec.VMAC.Parent != w.vmac.Parent ||
			spec.VMAC.MAC.String() != w.vmac.MAC.String() || spec.VMAC.Bridge != w.vmac.Bridge || spec.VMAC.IPv6 != w.vmac.IPv6) {
		return fmt.Errorf("vip: %s: the interface or virtual MAC cannot change live", w.dev)
	}
	spec = spec.clone()
	w.mu.Lock()
	w.next = &spec
	w.mu.Unlock()
	w.poke()
	return nil
}

func (s Spec) clone() Spec {
	s.VIPs, s.Routes = slices.Clone(s.VIPs), slices.Clone(s.Routes)
	return s
}

// SetMaster asks for the addresses to be held (true) or released (false).
// The latest call wins; it returns at once.
func (w *Worker) SetMaster(master bool) {
	w.mu.Lock()
	w.wantMaster = master
	w.mu.Unlock()
	w.poke()
}

// Announce asks for a fresh burst of gratuitous ARPs / neighbour adverts if
// master (split brain: another master was heard).
func (w *Worker) Announce() {
	w.mu.Lock()
	w.announceSeq++
	w.mu.Unlock()
	w.poke()
}

func (w *Worker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Close releases the addresses and routes, deletes the virtual MAC
// interface, and waits for Run to return (or ctx). It returns the last apply
// error.
func (w *Worker) Close(ctx context.Context) error {
	w.mu.Lock()
	w.wantMaster, w.closing = false, true
	w.mu.Unlock()
	w.poke()
	select {
	case <-w.done:
	case <-ctx.Done():
		return fmt.Errorf("vip: release %s: %w", w.dev, ctx.Err())
	}
	if st := w.Status(); st.Err != "" {
		return errors.New(st.Err)
	}
	return nil
}

// Status returns what the worker has done so far.
func (w *Worker) Status() Status {
	w.smu.Lock()
	defer w.smu.Unlock()
	return w.status
}

func (w *Worker) setStatus(f func(*Status)) {
	w.smu.Lock()
	f(&w.status)
	w.smu.Unlock()
}

// Run applies requests until Close is processed or ctx ends (then it leaves
// the host as it is).
func (w *Worker) Run(ctx context.Context) {
	defer close(w.done)
	var (
		applied, known, retry bool
		seenSeq               uint64
		left                  int // announce rounds left in the burst
		annT                  = time.NewTimer(time.Hour)
		retryT                = time.NewTimer(time.Hour)
	)
	annT.Stop()
	retryT.Stop()
	defer annT.Stop()
	defer retryT.Stop()
	burst := func() {
		left = w.spec.Announce.Count
		annT.Reset(0)
	}
	for {
		w.mu.Lock()
		want, seq, closing, next := w.wantMaster, w.announceSeq, w.closing, w.next
		w.next = nil
		w.mu.Unlock()
		if next != nil {
			old := w.spec
			w.spec = *next
			if known {
				if err := w.drop(old); err != nil {
					w.log.Warn("vrrp: remove dropped virtual addresses", "dev", w.spec.dev(), "err", err)
				}
				retry = true // apply the new spec (adds what is new if master)
			}
		}
		if !known || want != applied || retry {
			err := w.apply(want)
			w.setStatus(func(s *Status) {
				s.Master, s.Applied = want, err == nil
				if err != nil {
					s.Err = err.Error()
				} else {
					s.Err, s.ChangedAt = "", time.Now()
				}
			})
			applied, known, retry = want, true, err != nil
			if err != nil {
				w.log.Warn("vrrp: virtual addresses", "dev", w.spec.dev(), "master", want, "err", err)
				retryT.Reset(retryAfter)
			}
			if want && err == nil {
				burst()
			} else if !want {
				left = 0
				annT.Stop()
			}
		}
		if seq != seenSeq {
			seenSeq = seq
			if applied && want {
				burst()
			}
		}
		if closing {
			if w.spec.VMAC != nil {
				if err := w.k.DeleteLink(w.spec.VMAC.Name); err != nil && !errors.Is(err, ErrNoLink) {
					w.setStatus(func(s *Status) { s.Err = err.Error() })
				}
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-retryT.C:
		case <-annT.C:
			if !applied || !want {
				continue
			}
			err := w.announce()
			w.setStatus(func(s *Status) {
				s.Announcements++
				if err != nil {
					s.AnnounceErrs++
				}
			})
			if err != nil {
				w.log.Warn("vrrp: announce", "dev", w.spec.dev(), "err", err)
			}
			if left > 0 {
				left--
			}
			switch {
			case left > 0:
				annT.Reset(w.spec.Announce.Spacing)
			case w.spec.Announce.Refresh > 0:
				annT.Reset(w.spec.Announce.Refresh)
			}
		}
	}
}

// apply makes the host match master or backup.
func (w *Worker) apply(master bool) error {
	var (
		li  LinkInfo
		err error
	)
	switch {
	case master && w.spec.VMAC != nil:
		li, err = w.k.EnsureVMAC(*w.spec.VMAC)
	default:
		li, err = w.k.Link(w.spec.dev())
	}
	if errors.Is(err, ErrNoLink) && !master {
		return nil // nothing can be held on a missing interface
	}
	if err != nil {
		return err
	}
	var errs []error
	if !master {
		for _, r := range w.spec.Routes {
			if err := w.k.DelRoute(li.Index, r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	existing, err := w.k.Addrs(li.Index)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	p := PlanAddrs(master, w.spec.VIPs, existing)
	for _, a := range p.Add {
		if err := w.k.AddAddr(li.Index, a); err != nil {
			errs = append(errs, err)
		}
	}
	for _, a := range p.Del {
		if err := w.k.DelAddr(li.Index, a); err != nil {
			errs = append(errs, err)
		}
	}
	if master {
		for _, r := range w.spec.Routes {
			if err := w.k.ReplaceRoute(li.Index, r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if !p.Empty() || len(w.spec.Routes) > 0 {
		w.log.Debug("vrrp: virtual addresses applied", "dev", w.spec.dev(), "master", master, "add", p.Add, "del", p.Del)
	}
	return errors.Join(errs...)
}

// drop removes the addresses and routes of old that the current spec no
// longer has.
func (w *Worker) drop(old Spec) error {
	var vips []netip.Prefix
	for _, v := range old.VIPs {
		if !slices.ContainsFunc(w.spec.VIPs, func(n netip.Prefix) bool { return n.Addr().Unmap() == v.Addr().Unmap() }) {
			vips = append(vips, v)
		}
	}
	var routes []Route
	for _, r := range old.Routes {
		if !slices.Contains(w.spec.Routes, r) {
			routes = append(routes, r)
		}
	}
	if len(vips) == 0 && len(routes) == 0 {
		return nil
	}
	li, err := w.k.Link(w.spec.dev())
	if errors.Is(err, ErrNoLink) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range routes {
		errs = append(errs, w.k.DelRoute(li.Index, r))
	}
	existing, err := w.k.Addrs(li.Index)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, a := range PlanAddrs(false, vips, existing).Del {
		errs = append(errs, w.k.DelAddr(li.Index, a))
	}
	return errors.Join(errs...)
}

// announce sends one round: a GARP per IPv4 and an NA per IPv6 address.
func (w *Worker) announce() error {
	li, err := w.k.Link(w.spec.dev())
	if err != nil {
		return err
	}
	var (
		ll   netip.Addr
		errs []error
	)
	for _, v := range w.spec.VIPs {
		a := v.Addr().Unmap()
		if a.Is4() {
			errs = append(errs, w.a.GARP(li.Index, li.MAC, a))
			continue
		}
		if !ll.IsValid() {
			addrs, err := w.k.Addrs(li.Index)
			if err != nil {
				return errors.Join(append(errs, err)...)
			}
			var ok bool
			if ll, ok = LinkLocal(addrs); !ok {
				return errors.Join(append(errs, fmt.Errorf("vip: no link-local address on %s for neighbour adverts", w.spec.dev()))...)
			}
		}
		errs = append(errs, w.a.NA(li.Index, li.MAC, ll, a))
	}
	return errors.Join(errs...)
}
