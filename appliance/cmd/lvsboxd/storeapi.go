package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/lvsbox/lvsbox/appliance/api"
	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/store"
)

// storeAPI adapts *store.Store to api.Store: the same calls, with the store's types
// and sentinel errors translated.
type storeAPI struct{ s *store.Store }

func apiInfo(ri store.RevisionInfo) api.RevisionInfo {
	out := api.RevisionInfo{Number: ri.Number, Time: ri.Time, User: ri.User, Comment: ri.Comment,
		Confirmed: ri.Confirmed, RolledBackFrom: ri.RolledBackFrom}
	if !ri.ConfirmBy.IsZero() {
		t := ri.ConfirmBy
		out.ConfirmBy = &t
	}
	return out
}

func apiMeta(m api.Meta) store.Meta {
	return store.Meta{User: m.User, Comment: m.Comment, ConfirmWithin: m.ConfirmWithin}
}

// apiErr keeps the error and marks it with the API's sentinel.
func apiErr(err error) error {
	for _, p := range []struct{ from, to error }{
		{store.ErrConflict, api.ErrConflict},
		{store.ErrNotFound, api.ErrNotFound},
		{store.ErrPendingConfirm, api.ErrPendingConfirm},
		{store.ErrNotPending, api.ErrNotPending},
	} {
		if errors.Is(err, p.from) {
			return &markedError{err: err, mark: p.to}
		}
	}
	return err
}

// markedError is err, also matching mark with errors.Is; its text is err's.
type markedError struct{ err, mark error }

func (e *markedError) Error() string   { return e.err.Error() }
func (e *markedError) Unwrap() []error { return []error{e.err, e.mark} }

func (a storeAPI) Current() (api.Revision, error) {
	r, err := a.s.Current()
	return api.Revision{RevisionInfo: apiInfo(r.RevisionInfo), Config: r.Config}, apiErr(err)
}

func (a storeAPI) Get(n uint64) (api.Revision, error) {
	r, err := a.s.Get(n)
	return api.Revision{RevisionInfo: apiInfo(r.RevisionInfo), Config: r.Config}, apiErr(err)
}

func (a storeAPI) History(limit int) ([]api.RevisionInfo, error) {
	h, err := a.s.History(limit)
	out := make([]api.RevisionInfo, 0, len(h))
	for _, ri := range h {
		out = append(out, apiInfo(ri))
	}
	return out, apiErr(err)
}

func (a storeAPI) Apply(base uint64, cfg config.Config, m api.Meta) (api.RevisionInfo, error) {
	ri, err := a.s.Apply(base, cfg, apiMeta(m))
	return apiInfo(ri), apiErr(err)
}

func (a storeAPI) Rollback(to, base uint64, m api.Meta) (api.RevisionInfo, error) {
	ri, err := a.s.Rollback(to, base, apiMeta(m))
	return apiInfo(ri), apiErr(err)
}

func (a storeAPI) Confirm(n uint64) error { return apiErr(a.s.Confirm(n)) }

func (a storeAPI) Diff(x, y uint64) ([]api.Change, error) {
	ch, err := a.s.Diff(x, y)
	out := make([]api.Change, 0, len(ch))
	for _, c := range ch {
		out = append(out, api.Change{Path: c.Path, Op: c.Op, Old: c.Old, New: c.New})
	}
	return out, apiErr(err)
}

func (a storeAPI) Export() ([]byte, error) {
	data, err := a.s.Export()
	return data, apiErr(err)
}

func (a storeAPI) Import(data []byte, base uint64, m api.Meta) (api.RevisionInfo, error) {
	ri, err := a.s.Import(data, base, apiMeta(m))
	return apiInfo(ri), apiErr(err)
}

func (a storeAPI) Watch() (<-chan api.RevisionInfo, func()) {
	in, cancel := a.s.Watch()
	out := make(chan api.RevisionInfo, 16)
	go func() {
		defer close(out)
		for ri := range in {
			out <- apiInfo(ri)
		}
	}()
	return out, cancel
}

// configUsers loads the accounts of the current configuration for authentication.
func configUsers(s *store.Store) func() ([]auth.User, error) {
	return func() ([]auth.User, error) {
		rev, err := s.Current()
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out := make([]auth.User, 0, len(rev.Config.Users))
		for _, u := range rev.Config.Users {
			au := auth.User{Name: u.Name, Role: auth.Role(u.Role), PasswordHash: u.PasswordHash}
			for _, t := range u.Tokens {
				au.Tokens = append(au.Tokens, auth.Token{Name: t.Name, Hash: t.Hash, Expires: t.Expires})
			}
			out = append(out, au)
		}
		return out, nil
	}
}

// expirer rolls back an unconfirmed commit-confirmed revision once its deadline has
// passed. Due checks only read; the store is written only when a deadline passed.
type expirer struct {
	s          *store.Store
	onRollback func(pending, rollback store.RevisionInfo)
	onError    func(error)
}

// due rolls back the pending revision if its deadline has passed.
func (x expirer) due() {
	h, err := x.s.History(1)
	if err != nil {
		x.onError(err)
		return
	}
	if len(h) != 1 || !h[0].Pending() || time.Now().Before(h[0].ConfirmBy) {
		return
	}
	rb, err := x.s.ExpirePending(time.Now())
	if err != nil {
		x.onError(err)
	} else if rb != nil {
		x.onRollback(h[0], *rb)
	}
}

// loop calls due every interval until done is closed.
func (x expirer) loop(done <-chan struct{}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			x.due()
		}
	}
}
