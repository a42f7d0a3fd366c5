package kmod

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"time"
)

// ErrNotFound means neither a module nor an alias of that name exists.
var ErrNotFound = errors.New("module not found")

// Loader inserts one module file into the kernel. An already loaded module
// must be reported as success.
type Loader interface {
	Load(path, params string) error
}

type state int

const (
	unloaded state = iota
	loading
	loaded
	failed
)

// Result says what happened to one module during a Prober's lifetime.
type Result struct {
	Name    string
	Err     error
	Builtin bool
}

// Prober loads modules with their dependencies, remembering what it loaded.
// It is not safe for concurrent use.
type Prober struct {
	idx    *Index
	dir    string // module directory, prefix of Module.Path
	loader Loader
	log    *slog.Logger

	state map[string]state
	errs  map[string]error

	// Loaded lists the modules this prober inserted, in load order.
	Loaded []string
	// Failed maps module names to their load error.
	Failed map[string]error
	// Params maps normalized module names to the parameters they are
	// loaded with (set before probing).
	Params map[string]string
}

// NewProber makes a prober for the module directory dir described by idx.
// alreadyLoaded names modules the kernel has already (from /proc/modules).
func NewProber(idx *Index, dir string, loader Loader, alreadyLoaded []string, log *slog.Logger) *Prober {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Prober{
		idx: idx, dir: dir, loader: loader, log: log,
		state:  map[string]state{},
		errs:   map[string]error{},
		Failed: map[string]error{},
		Params: map[string]string{},
	}
	for _, n := range alreadyLoaded {
		p.state[Normalize(n)] = loaded
	}
	return p
}

// SetParams sets module parameters by (unnormalized) module name.
func (p *Prober) SetParams(opts map[string]string) {
	for k, v := range opts {
		p.Params[Normalize(k)] = v
	}
}

// IsLoaded reports whether the module is loaded or builtin as far as this
// prober knows.
func (p *Prober) IsLoaded(name string) bool {
	n := Normalize(name)
	return p.state[n] == loaded || p.idx.Builtin[n]
}

// Probe loads a module by name or alias, with its dependencies and soft
// dependencies. When an alias matches several modules (crc32c matches
// crc32c_intel and crc32c_generic) all are tried and one success is enough.
// A builtin module is a success.
func (p *Prober) Probe(name string) error {
	mods := p.idx.Resolve(name)
	if len(mods) == 0 {
		return fmt.Errorf("kmod: %s: %w", name, ErrNotFound)
	}
	var errs []error
	for _, m := range mods {
		if err := p.probeModule(m); err != nil {
			errs = append(errs, err)
			continue
		}
		if len(mods) == 1 {
			return nil
		}
	}
	if len(errs) < len(mods) {
		for _, err := range errs {
			p.log.Debug(fmt.Sprintf("kmod: %s: one of %d candidates failed: %v", name, len(mods), err))
		}
		return nil
	}
	return errors.Join(errs...)
}

func (p *Prober) probeModule(name string) error {
	switch p.state[name] {
	case loaded:
		return nil
	case failed:
		return p.errs[name]
	case loading:
		return fmt.Errorf("kmod: %s: dependency cycle", name)
	}
	if p.idx.Builtin[name] {
		p.state[name] = loaded
		return nil
	}
	mod := p.idx.Modules[name]
	if mod == nil {
		return fmt.Errorf("kmod: %s: %w", name, ErrNotFound)
	}
	p.state[name] = loading
	sd := p.idx.Softdeps[name]
	for _, pre := range sd.Pre {
		if err := p.Probe(pre); err != nil {
			p.log.Warn(fmt.Sprintf("kmod: %s: soft dependency %s: %v", name, pre, err))
		}
	}
	for i := len(mod.Deps) - 1; i >= 0; i-- {
		d := mod.Deps[i]
		if err := p.probeModule(d); err != nil {
			return p.fail(name, fmt.Errorf("kmod: %s: dependency %s: %w", name, d, err))
		}
	}
	t := time.Now()
	if err := p.loader.Load(path.Join(p.dir, mod.Path), p.Params[name]); err != nil {
		return p.fail(name, fmt.Errorf("kmod: load %s: %w", name, err))
	}
	p.log.Debug(fmt.Sprintf("kmod: loaded %s in %s", name, time.Since(t).Round(time.Millisecond)))
	p.state[name] = loaded
	p.Loaded = append(p.Loaded, name)
	for _, post := range sd.Post {
		if err := p.Probe(post); err != nil {
			p.log.Warn(fmt.Sprintf("kmod: %s: soft dependency %s: %v", name, post, err))
		}
	}
	return nil
}

func (p *Prober) fail(name string, err error) error {
	p.state[name] = failed
	p.errs[name] = err
	p.Failed[name] = err
	return err
}
