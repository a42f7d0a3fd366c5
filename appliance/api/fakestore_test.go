package api

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// fakeStore is an in-memory Store with the contract's semantics.
type fakeStore struct {
	mu       sync.Mutex
	now      func() time.Time
	revs     []Revision // revs[i].Number == i+1
	watchers map[chan RevisionInfo]struct{}
}

func newFakeStore(now func() time.Time) *fakeStore {
	return &fakeStore{now: now, watchers: map[chan RevisionInfo]struct{}{}}
}

func (f *fakeStore) Current() (Revision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.revs) == 0 {
		return Revision{}, nil
	}
	return f.revs[len(f.revs)-1], nil
}

func (f *fakeStore) Get(n uint64) (Revision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n == 0 || n > uint64(len(f.revs)) {
		return Revision{}, fmt.Errorf("fake: %w: %d", ErrNotFound, n)
	}
	return f.revs[n-1], nil
}

func (f *fakeStore) History(limit int) ([]RevisionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []RevisionInfo
	for i := len(f.revs) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, f.revs[i].RevisionInfo)
	}
	return out, nil
}

func (f *fakeStore) commit(base uint64, cfg config.Config, m Meta, from uint64) (RevisionInfo, error) {
	if err := cfg.Validate(); err != nil {
		return RevisionInfo{}, fmt.Errorf("fake: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if cur := uint64(len(f.revs)); base != cur {
		return RevisionInfo{}, fmt.Errorf("fake: %w: based on revision %d, current is %d", ErrConflict, base, cur)
	}
	if n := len(f.revs); n > 0 && f.revs[n-1].Pending() {
		return RevisionInfo{}, fmt.Errorf("fake: %w: revision %d", ErrPendingConfirm, f.revs[n-1].Number)
	}
	info := RevisionInfo{Number: uint64(len(f.revs)) + 1, Time: f.now().UTC(), User: m.User, Comment: m.Comment, RolledBackFrom: from}
	if m.ConfirmWithin > 0 {
		t := f.now().Add(m.ConfirmWithin).UTC()
		info.ConfirmBy = &t
	}
	f.revs = append(f.revs, Revision{RevisionInfo: info, Config: cfg.Clone()})
	for c := range f.watchers {
		select {
		case c <- info:
		default:
		}
	}
	return info, nil
}

func (f *fakeStore) Apply(base uint64, cfg config.Config, m Meta) (RevisionInfo, error) {
	return f.commit(base, cfg, m, 0)
}

func (f *fakeStore) Rollback(to, base uint64, m Meta) (RevisionInfo, error) {
	rev, err := f.Get(to)
	if err != nil {
		return RevisionInfo{}, err
	}
	if m.Comment == "" {
		m.Comment = fmt.Sprintf("rollback to revision %d", to)
	}
	return f.commit(base, rev.Config, m, to)
}

func (f *fakeStore) Confirm(n uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n == 0 || n > uint64(len(f.revs)) {
		return fmt.Errorf("fake: %w: %d", ErrNotFound, n)
	}
	if !f.revs[n-1].Pending() {
		return fmt.Errorf("fake: %w: %d", ErrNotPending, n)
	}
	f.revs[n-1].Confirmed = true
	return nil
}

func flatten(prefix string, v any, out map[string]json.RawMessage) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, val, out)
		}
	case []any:
		for i, val := range x {
			key := fmt.Sprint(i)
			if m, ok := val.(map[string]any); ok {
				if n, ok := m["name"].(string); ok && n != "" {
					key = n
				}
			}
			flatten(fmt.Sprintf("%s[%s]", prefix, key), val, out)
		}
	default:
		out[prefix], _ = json.Marshal(x)
	}
}

func (f *fakeStore) Diff(a, b uint64) ([]Change, error) {
	get := func(n uint64) (map[string]json.RawMessage, error) {
		var cfg config.Config
		if n != 0 {
			rev, err := f.Get(n)
			if err != nil {
				return nil, err
			}
			cfg = rev.Config
		}
		data, _ := json.Marshal(cfg)
		var v any
		json.Unmarshal(data, &v)
		out := map[string]json.RawMessage{}
		flatten("", v, out)
		return out, nil
	}
	ma, err := get(a)
	if err != nil {
		return nil, err
	}
	mb, err := get(b)
	if err != nil {
		return nil, err
	}
	var out []Change
	for k, v := range ma {
		if w, ok := mb[k]; !ok {
			out = append(out, Change{Path: k, Op: "remove", Old: v})
		} else if string(w) != string(v) {
			out = append(out, Change{Path: k, Op: "change", Old: v, New: w})
		}
	}
	for k, w := range mb {
		if _, ok := ma[k]; !ok {
			out = append(out, Change{Path: k, Op: "add", New: w})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

type exportDoc struct {
	Schema   int             `json:"schema"`
	Revision uint64          `json:"revision"`
	Config   json.RawMessage `json:"config"`
}

func (f *fakeStore) Export() ([]byte, error) {
	cur, _ := f.Current()
	cfg, _ := json.Marshal(cur.Config)
	return json.Marshal(exportDoc{Schema: config.SchemaVersion, Revision: cur.Number, Config: cfg})
}

func (f *fakeStore) Import(data []byte, base uint64, m Meta) (RevisionInfo, error) {
	var doc exportDoc
	raw := data
	if json.Unmarshal(data, &doc) == nil && doc.Schema != 0 {
		raw = doc.Config
	}
	cfg, err := config.DecodeBytes(raw)
	if err != nil {
		return RevisionInfo{}, err
	}
	if m.Comment == "" {
		m.Comment = "import"
	}
	return f.commit(base, cfg, m, 0)
}

func (f *fakeStore) Watch() (<-chan RevisionInfo, func()) {
	c := make(chan RevisionInfo, 16)
	f.mu.Lock()
	f.watchers[c] = struct{}{}
	f.mu.Unlock()
	return c, func() {
		f.mu.Lock()
		delete(f.watchers, c)
		f.mu.Unlock()
	}
}
