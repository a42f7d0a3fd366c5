package sysctl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// FS reads and writes sysctls by key. Read of a key the kernel lacks returns an error
// wrapping fs.ErrNotExist.
type FS interface {
	Read(key string) (string, error)
	Write(key, value string) error
}

// ProcSys is the FS under a /proc/sys directory (Root "" means /proc/sys; tests use a
// temporary directory). /proc/sys/net is per network namespace: it shows the namespace
// of the thread that opens the file.
type ProcSys struct {
	Root string
}

func (p ProcSys) file(key string) (string, error) {
	rel, err := Path(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(cmp.Or(p.Root, "/proc/sys"), rel), nil
}

// Read implements FS.
func (p ProcSys) Read(key string) (string, error) {
	f, err := p.file(key)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Write implements FS. It never creates a file.
func (p ProcSys) Write(key, value string) error {
	path, err := p.file(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(value + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// ErrNotPresent is wrapped by errors for keys the kernel does not have.
var ErrNotPresent = errors.New("not present")

// Status is one wanted setting after a pass.
type Status struct {
	Setting
	// Actual is the value read back at the end of the pass ("" if unreadable).
	Actual string
	Err    error
}

// OK reports whether the setting holds.
func (s Status) OK() bool { return s.Err == nil && sameValue(s.Actual, s.Value) }

// Change is a value a pass wrote.
type Change struct {
	Key, From, To, Reason string
	// Drift: the key held the wanted value after an earlier pass and was changed
	// behind lvsbox's back; this change repaired it.
	Drift bool
}

// Result is the outcome of one pass.
type Result struct {
	Status  []Status
	Changes []Change
}

// Repairs returns the changes that repaired drift.
func (r Result) Repairs() []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Drift {
			out = append(out, c)
		}
	}
	return out
}

// Err joins the per-key errors (nil when every key holds).
func (r Result) Err() error {
	var errs []error
	for _, s := range r.Status {
		if s.Err != nil {
			errs = append(errs, s.Err)
		}
	}
	return errors.Join(errs...)
}

// Reconciler applies settings and remembers which values it verified, to tell drift
// repairs from first applications. It is safe for concurrent use.
type Reconciler struct {
	FS FS

	mu       sync.Mutex
	verified map[string]string
}

// Reconcile reads every key, writes the ones that differ, reads them back and
// reports. A failing key never stops the pass; a cancelled context stops it (the
// remaining keys are reported with ctx.Err()).
func (r *Reconciler) Reconcile(ctx context.Context, settings []Setting) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	verified := map[string]string{}
	var res Result
	for _, s := range settings {
		st := Status{Setting: s}
		if err := ctx.Err(); err != nil {
			st.Err = fmt.Errorf("sysctl %s: %w", s.Key, err)
			res.Status = append(res.Status, st)
			continue
		}
		st.Actual, st.Err = r.apply(s, &res)
		if st.Err == nil {
			verified[s.Key] = s.Value
		}
		res.Status = append(res.Status, st)
	}
	r.verified = verified
	return res
}

func (r *Reconciler) apply(s Setting, res *Result) (string, error) {
	cur, err := r.FS.Read(s.Key)
	if err != nil {
		return "", keyError(s, "read", err)
	}
	if sameValue(cur, s.Value) {
		return cur, nil
	}
	if err := r.FS.Write(s.Key, s.Value); err != nil {
		return cur, keyError(s, "write "+s.Value, err)
	}
	res.Changes = append(res.Changes, Change{Key: s.Key, From: cur, To: s.Value, Reason: s.Reason,
		Drift: r.verified[s.Key] != "" && sameValue(r.verified[s.Key], s.Value)})
	back, err := r.FS.Read(s.Key)
	if err != nil {
		return "", keyError(s, "read back", err)
	}
	if !sameValue(back, s.Value) {
		return back, fmt.Errorf("sysctl %s: wrote %s, reads back %s", s.Key, s.Value, back)
	}
	return back, nil
}

// keyError names the key and, for a missing one, the likely cause.
func keyError(s Setting, op string, err error) error {
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sysctl %s: %s: %w", s.Key, op, err)
	}
	switch {
	case s.Source == Override:
		return fmt.Errorf("sysctl override %s: no such key in /proc/sys: %w", s.Key, ErrNotPresent)
	case strings.HasPrefix(s.Key, vsKeyPrefix):
		return fmt.Errorf("sysctl %s: %w (is ip_vs loaded?)", s.Key, ErrNotPresent)
	}
	if ifname, ok := interfaceOf(s.Key); ok {
		return fmt.Errorf("sysctl %s: %w (no interface %s?)", s.Key, ErrNotPresent, ifname)
	}
	return fmt.Errorf("sysctl %s: %w", s.Key, ErrNotPresent)
}

// interfaceOf returns the interface of a net.*.conf.<if>.* or net.*.neigh.<if>.* key.
func interfaceOf(key string) (string, bool) {
	parts := strings.Split(key, ".")
	if len(parts) < 5 || parts[0] != "net" || (parts[2] != "conf" && parts[2] != "neigh") {
		return "", false
	}
	if n := parts[3]; n != "all" && n != "default" {
		return strings.ReplaceAll(n, "/", "."), true
	}
	return "", false
}

// CheckOverrides checks that every override names a key that exists (and has a
// valid syntax and value); the error names each bad key. For validating a config
// before it is accepted.
func CheckOverrides(fsys FS, overrides map[string]string) error {
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(overrides)) {
		if err := ValidKey(key); err != nil {
			errs = append(errs, fmt.Errorf("override: %w", err))
			continue
		}
		if err := validValue(key, overrides[key]); err != nil {
			errs = append(errs, fmt.Errorf("override: %w", err))
			continue
		}
		if _, err := fsys.Read(key); err != nil {
			errs = append(errs, keyError(Setting{Key: key, Source: Override}, "read", err))
		}
	}
	return errors.Join(errs...)
}
