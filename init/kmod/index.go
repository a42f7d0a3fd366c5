package kmod

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Module is one loadable module from modules.dep.
type Module struct {
	Name string   // normalized ("ip_vs")
	Path string   // relative to the module directory ("kernel/net/.../ip_vs.ko")
	Deps []string // normalized names of all hard dependencies, as listed (load from last to first)
}

// Softdep holds the soft dependencies of one module.
type Softdep struct {
	Pre  []string
	Post []string
}

type alias struct {
	pattern string // normalized
	prefix  string // literal prefix of pattern, for a cheap pre-check
	module  string // normalized module name
}

// Index is the parsed module metadata of one kernel.
type Index struct {
	Modules  map[string]*Module
	Softdeps map[string]Softdep
	Builtin  map[string]bool
	aliases  []alias
}

// ModuleName derives the module name from a path in modules.dep.
func ModuleName(p string) string {
	b := path.Base(p)
	for _, ext := range []string{".ko.xz", ".ko.gz", ".ko.zst", ".ko"} {
		if strings.HasSuffix(b, ext) {
			b = strings.TrimSuffix(b, ext)
			break
		}
	}
	return Normalize(b)
}

// LoadIndex reads the module metadata files from fsys (the module directory,
// e.g. os.DirFS("/lib/modules/6.1.0-26-amd64")). modules.dep is required;
// the others are optional.
func LoadIndex(fsys fs.FS) (*Index, error) {
	idx := &Index{
		Modules:  map[string]*Module{},
		Softdeps: map[string]Softdep{},
		Builtin:  map[string]bool{},
	}
	dep, err := fs.ReadFile(fsys, "modules.dep")
	if err != nil {
		return nil, fmt.Errorf("kmod: read modules.dep: %w", err)
	}
	if err := idx.parseDep(bytes.NewReader(dep)); err != nil {
		return nil, fmt.Errorf("kmod: modules.dep: %w", err)
	}
	for _, f := range []struct {
		name  string
		parse func(io.Reader) error
	}{
		{"modules.builtin", idx.parseBuiltin},
		{"modules.builtin.modinfo", idx.parseBuiltinModinfo},
		{"modules.softdep", idx.parseSoftdep},
		{"modules.alias", idx.parseAlias},
	} {
		data, err := fs.ReadFile(fsys, f.name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("kmod: read %s: %w", f.name, err)
		}
		if err := f.parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("kmod: %s: %w", f.name, err)
		}
	}
	return idx, nil
}

func lines(r io.Reader, fn func(fields []string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := fn(strings.Fields(line)); err != nil {
			return err
		}
	}
	return sc.Err()
}

func (idx *Index) parseDep(r io.Reader) error {
	return lines(r, func(f []string) error {
		if !strings.HasSuffix(f[0], ":") {
			return fmt.Errorf("malformed line starting %q", f[0])
		}
		p := strings.TrimSuffix(f[0], ":")
		m := &Module{Name: ModuleName(p), Path: p}
		for _, d := range f[1:] {
			m.Deps = append(m.Deps, ModuleName(d))
		}
		idx.Modules[m.Name] = m
		return nil
	})
}

func (idx *Index) parseBuiltin(r io.Reader) error {
	return lines(r, func(f []string) error {
		idx.Builtin[ModuleName(f[0])] = true
		return nil
	})
}

// parseBuiltinModinfo reads NUL-separated "module.key=value" records and
// keeps builtin module names and their aliases.
func (idx *Index) parseBuiltinModinfo(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, rec := range bytes.Split(data, []byte{0}) {
		s := string(rec)
		dot := strings.IndexByte(s, '.')
		eq := strings.IndexByte(s, '=')
		if dot <= 0 || eq < dot {
			continue
		}
		name := Normalize(s[:dot])
		idx.Builtin[name] = true
		if s[dot+1:eq] == "alias" {
			idx.addAlias(s[eq+1:], name)
		}
	}
	return nil
}

func (idx *Index) parseSoftdep(r io.Reader) error {
	return lines(r, func(f []string) error {
		if f[0] != "softdep" || len(f) < 2 {
			return nil
		}
		name := Normalize(f[1])
		sd := idx.Softdeps[name]
		var mode *[]string // tokens before "pre:"/"post:" are ignored, as in kmod
		for _, tok := range f[2:] {
			switch tok {
			case "pre:":
				mode = &sd.Pre
			case "post:":
				mode = &sd.Post
			default:
				if mode != nil {
					*mode = append(*mode, Normalize(tok))
				}
			}
		}
		idx.Softdeps[name] = sd
		return nil
	})
}

func (idx *Index) parseAlias(r io.Reader) error {
	return lines(r, func(f []string) error {
		if f[0] != "alias" || len(f) < 3 {
			return nil
		}
		idx.addAlias(f[1], f[2])
		return nil
	})
}

func (idx *Index) addAlias(pattern, module string) {
	p := Normalize(pattern)
	idx.aliases = append(idx.aliases, alias{pattern: p, prefix: literalPrefix(p), module: Normalize(module)})
}

// Known reports whether name is a loadable or builtin module.
func (idx *Index) Known(name string) bool {
	n := Normalize(name)
	return idx.Modules[n] != nil || idx.Builtin[n]
}

// Resolve maps a module name or alias (a modalias string, "crc32c", ...) to
// module names, the way modprobe looks names up: an exact module name first,
// then every alias pattern that matches, in file order, without duplicates.
func (idx *Index) Resolve(name string) []string {
	n := Normalize(name)
	if idx.Known(n) {
		return []string{n}
	}
	var out []string
	seen := map[string]bool{}
	for _, a := range idx.aliases {
		if !strings.HasPrefix(n, a.prefix) || seen[a.module] {
			continue
		}
		if Match(a.pattern, n) {
			seen[a.module] = true
			out = append(out, a.module)
		}
	}
	return out
}
