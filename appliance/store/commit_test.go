package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestStaleBaseIsConflict(t *testing.T) {
	s, _ := open(t)
	apply(t, s, 0, hostCfg(t, "one"), Meta{})
	apply(t, s, 1, hostCfg(t, "two"), Meta{})
	for _, base := range []uint64{0, 1, 3} {
		if _, err := s.Apply(base, hostCfg(t, "stale"), Meta{}); !errors.Is(err, ErrConflict) {
			t.Fatalf("apply on base %d (current 2): %v, want ErrConflict", base, err)
		}
		if _, err := s.Rollback(1, base, Meta{}); !errors.Is(err, ErrConflict) {
			t.Fatalf("rollback on base %d (current 2): %v, want ErrConflict", base, err)
		}
		if _, err := s.Import([]byte(seedJSON), base, Meta{}); !errors.Is(err, ErrConflict) {
			t.Fatalf("import on base %d (current 2): %v, want ErrConflict", base, err)
		}
	}
	cur, err := s.Current()
	if err != nil || cur.Number != 2 || cur.Config.System.Hostname != "two" {
		t.Fatalf("after conflicts: %+v, %v", cur.RevisionInfo, err)
	}
}

func TestConcurrentCommitsOnSameBase(t *testing.T) {
	s, _ := open(t)
	const rounds, writers = 20, 2
	for r := range rounds {
		base := uint64(r)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, writers)
		)
		for w := range writers {
			wg.Go(func() {
				c := hostCfg(t, fmt.Sprintf("r%d-w%d", r, w))
				<-start
				_, errs[w] = s.Apply(base, c, Meta{User: fmt.Sprint(w)})
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for w, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrConflict):
				t.Fatalf("round %d writer %d: %v", r, w, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1 (%v)", r, won, errs)
		}
		cur, err := s.Current()
		if err != nil || cur.Number != base+1 {
			t.Fatalf("round %d: current %d, %v", r, cur.Number, err)
		}
		if want := fmt.Sprintf("r%d-w%s", r, cur.User); cur.Config.System.Hostname != want {
			t.Fatalf("round %d: the winner's revision holds %q, want %q", r, cur.Config.System.Hostname, want)
		}
	}
}

func TestRollback(t *testing.T) {
	s, c := open(t)
	apply(t, s, 0, hostCfg(t, "one"), Meta{})
	apply(t, s, 1, hostCfg(t, "two"), Meta{})
	c.Add(time.Hour)
	ri, err := s.Rollback(1, 2, Meta{User: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	if ri.Number != 3 || ri.RolledBackFrom != 1 || ri.User != "carol" || ri.Comment != "rollback to revision 1" || !ri.Time.Equal(t0.Add(time.Hour)) {
		t.Fatalf("rollback revision = %+v", ri)
	}
	if d, err := s.Diff(1, 3); err != nil || len(d) != 0 {
		t.Fatalf("diff between revision 1 and its rollback copy = %+v, %v", d, err)
	}
	if cur, _ := s.Current(); cur.Config.System.Hostname != "one" {
		t.Fatalf("current after rollback = %q", cur.Config.System.Hostname)
	}
	if _, err := s.Rollback(9, 3, Meta{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rollback to a missing revision: %v", err)
	}
	// Revision 0 is the empty configuration.
	if ri, err := s.Rollback(0, 3, Meta{Comment: "wipe"}); err != nil || ri.Comment != "wipe" {
		t.Fatalf("rollback to 0: %+v, %v", ri, err)
	}
	if cur, _ := s.Current(); cur.Number != 4 || len(cur.Config.VirtualServices) != 0 {
		t.Fatalf("after rollback to 0: %+v", cur)
	}
}

func TestCommitConfirmedConfirm(t *testing.T) {
	s, c := open(t)
	apply(t, s, 0, hostCfg(t, "one"), Meta{})
	c.Add(time.Minute)
	ri := apply(t, s, 1, hostCfg(t, "risky"), Meta{Comment: "risky", ConfirmWithin: time.Minute})
	if !ri.Pending() || !ri.ConfirmBy.Equal(t0.Add(2*time.Minute)) || ri.Confirmed {
		t.Fatalf("commit-confirmed revision = %+v", ri)
	}
	if h, _ := s.History(1); !h[0].ConfirmBy.Equal(ri.ConfirmBy) {
		t.Fatalf("history does not show the deadline: %+v", h[0])
	}
	// Nothing else may be committed while it is pending.
	if _, err := s.Apply(2, hostCfg(t, "other"), Meta{}); !errors.Is(err, ErrPendingConfirm) {
		t.Fatalf("apply while pending: %v", err)
	}
	if _, err := s.Rollback(1, 2, Meta{}); !errors.Is(err, ErrPendingConfirm) {
		t.Fatalf("rollback while pending: %v", err)
	}
	// Before the deadline nothing expires.
	c.Add(59 * time.Second)
	if got, err := s.ExpirePending(c.Now()); err != nil || got != nil {
		t.Fatalf("expire before the deadline: %+v, %v", got, err)
	}
	if err := s.Confirm(1); !errors.Is(err, ErrNotPending) {
		t.Fatalf("confirm of a non-pending revision: %v", err)
	}
	if err := s.Confirm(7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("confirm of a missing revision: %v", err)
	}
	if err := s.Confirm(2); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.Current()
	if cur.Number != 2 || cur.Pending() || !cur.Confirmed {
		t.Fatalf("after confirm: %+v", cur.RevisionInfo)
	}
	if err := s.Confirm(2); err != nil {
		t.Fatalf("second confirm: %v", err)
	}
	c.Add(time.Hour)
	if got, err := s.ExpirePending(c.Now()); err != nil || got != nil {
		t.Fatalf("expire after confirm: %+v, %v", got, err)
	}
	apply(t, s, 2, hostCfg(t, "after"), Meta{})
}

func TestCommitConfirmedLateConfirmIsRefused(t *testing.T) {
	s, c := open(t)
	apply(t, s, 0, hostCfg(t, "one"), Meta{ConfirmWithin: time.Second})
	c.Add(time.Second)
	if err := s.Confirm(1); !errors.Is(err, ErrNotPending) {
		t.Fatalf("confirm at the deadline: %v, want ErrNotPending", err)
	}
	// The first revision had nothing before it: the rollback is the empty config.
	got, err := s.ExpirePending(c.Now())
	if err != nil || got == nil || got.Number != 2 || got.RolledBackFrom != 0 {
		t.Fatalf("expire = %+v, %v", got, err)
	}
	if cur, _ := s.Current(); cur.Config.System.Hostname != "" || len(cur.Config.VirtualServices) != 0 {
		t.Fatalf("rollback of the first revision = %+v", cur.Config)
	}
}

func TestCommitConfirmedExpiresAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := openAt(t, dir, c)
	apply(t, s, 0, hostCfg(t, "one"), Meta{})
	apply(t, s, 1, hostCfg(t, "two"), Meta{})
	apply(t, s, 2, hostCfg(t, "cut-off"), Meta{User: "dave", ConfirmWithin: 5 * time.Minute})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The box is down past the deadline; on the next start the daemon expires it.
	c.Add(10 * time.Minute)
	s = openAt(t, dir, c)
	cur, _ := s.Current()
	if !cur.Pending() || !cur.ConfirmBy.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("pending state lost across restart: %+v", cur.RevisionInfo)
	}
	got, err := s.ExpirePending(c.Now())
	if err != nil || got == nil {
		t.Fatalf("expire: %+v, %v", got, err)
	}
	if got.Number != 4 || got.RolledBackFrom != 2 || got.User != SystemUser ||
		got.Comment != "auto rollback of 3: not confirmed" || !got.Time.Equal(c.Now()) || got.Pending() {
		t.Fatalf("auto rollback revision = %+v", *got)
	}
	if d, err := s.Diff(2, 4); err != nil || len(d) != 0 {
		t.Fatalf("auto rollback differs from revision 2: %+v, %v", d, err)
	}
	three, err := s.Get(3)
	if err != nil || three.Pending() || three.Confirmed || three.Config.System.Hostname != "cut-off" {
		t.Fatalf("rolled back revision = %+v, %v", three.RevisionInfo, err)
	}
	if err := s.Confirm(3); !errors.Is(err, ErrNotPending) {
		t.Fatalf("confirm after the rollback: %v", err)
	}
	if again, err := s.ExpirePending(c.Now()); err != nil || again != nil {
		t.Fatalf("second expire: %+v, %v", again, err)
	}
	apply(t, s, 4, hostCfg(t, "next"), Meta{})
}

func TestWatch(t *testing.T) {
	s, c := open(t)
	ch, stop := s.Watch()
	apply(t, s, 0, hostCfg(t, "one"), Meta{Comment: "a"})
	if ri := <-ch; ri.Number != 1 || ri.Comment != "a" {
		t.Fatalf("notification = %+v", ri)
	}
	apply(t, s, 1, hostCfg(t, "two"), Meta{ConfirmWithin: time.Minute})
	if ri := <-ch; ri.Number != 2 || !ri.Pending() {
		t.Fatalf("notification = %+v", ri)
	}
	if err := s.Confirm(2); err != nil {
		t.Fatal(err)
	}
	if ri := <-ch; ri.Number != 2 || !ri.Confirmed {
		t.Fatalf("confirm notification = %+v", ri)
	}
	apply(t, s, 2, hostCfg(t, "three"), Meta{ConfirmWithin: time.Minute})
	<-ch
	c.Add(time.Minute)
	if _, err := s.ExpirePending(c.Now()); err != nil {
		t.Fatal(err)
	}
	if ri := <-ch; ri.Number != 4 || ri.RolledBackFrom != 2 {
		t.Fatalf("auto rollback notification = %+v", ri)
	}
	stop()
	stop()
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after stop")
	}

	// A subscriber that never reads keeps the newest notifications, and commits
	// never block on it.
	slow, stopSlow := s.Watch()
	defer stopSlow()
	base := uint64(4)
	for i := range 3 * watchBuffer {
		apply(t, s, base, hostCfg(t, fmt.Sprint("h", i)), Meta{})
		base++
	}
	var got []uint64
	for len(slow) > 0 {
		got = append(got, (<-slow).Number)
	}
	if len(got) != watchBuffer || got[len(got)-1] != base {
		t.Fatalf("slow subscriber got %v, want the %d newest ending at %d", got, watchBuffer, base)
	}

	// Close closes the remaining subscriptions.
	last, _ := s.Watch()
	s.Close()
	if _, ok := <-last; ok {
		t.Fatal("channel open after Close")
	}
	afterClose, stopAfter := s.Watch()
	stopAfter()
	if _, ok := <-afterClose; ok {
		t.Fatal("Watch after Close returned an open channel")
	}
}

func TestConfirmRacesExpiry(t *testing.T) {
	s, c := open(t)
	apply(t, s, 0, hostCfg(t, "base"), Meta{})
	for r := range 20 {
		cur, _ := s.Current()
		ri := apply(t, s, cur.Number, hostCfg(t, fmt.Sprint("try", r)), Meta{ConfirmWithin: time.Minute})
		var (
			wg         sync.WaitGroup
			confirmErr error
			rolled     *RevisionInfo
			expireErr  error
		)
		wg.Go(func() { confirmErr = s.Confirm(ri.Number) })
		wg.Go(func() { rolled, expireErr = s.ExpirePending(ri.ConfirmBy) })
		wg.Wait()
		if expireErr != nil {
			t.Fatal(expireErr)
		}
		switch {
		case confirmErr == nil && rolled == nil:
			if cur, _ := s.Current(); cur.Number != ri.Number || !cur.Confirmed {
				t.Fatalf("round %d: confirmed, but current = %+v", r, cur.RevisionInfo)
			}
		case errors.Is(confirmErr, ErrNotPending) && rolled != nil:
			if cur, _ := s.Current(); cur.Number != ri.Number+1 || cur.Config.System.Hostname == fmt.Sprint("try", r) {
				t.Fatalf("round %d: rolled back, but current = %+v", r, cur.RevisionInfo)
			}
		default:
			t.Fatalf("round %d: confirm %v and rollback %+v both or neither happened", r, confirmErr, rolled)
		}
		c.Add(time.Second)
	}
}
