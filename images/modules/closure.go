package modules

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/lvsbox/lvsbox/images/board"
)

// Dep is one line of `modprobe --show-depends`: a module file to insert
// (Path relative to /lib/modules/RELEASE) or a module built into the kernel.
type Dep struct {
	Name    string // canonical module name (underscores)
	Path    string // e.g. kernel/net/netfilter/ipvs/ip_vs.ko; empty if Builtin
	Builtin bool
}

// ParseShowDepends parses `modprobe --show-depends` output. modulesDir is the
// absolute /lib/modules/RELEASE prefix modprobe prints.
func ParseShowDepends(out []byte, modulesDir string) ([]Dep, error) {
	prefix := strings.TrimSuffix(modulesDir, "/") + "/"
	var deps []Dep
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "insmod" && len(f) >= 2:
			if !strings.HasPrefix(f[1], prefix) {
				return nil, fmt.Errorf("modules: %q is outside %s", f[1], modulesDir)
			}
			rel := strings.TrimPrefix(f[1], prefix)
			deps = append(deps, Dep{Name: NameFromPath(rel), Path: rel})
		case f[0] == "builtin" && len(f) == 2:
			deps = append(deps, Dep{Name: board.CanonicalModule(f[1]), Builtin: true})
		default:
			return nil, fmt.Errorf("modules: unexpected modprobe line %q", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("modules: %w", err)
	}
	return deps, nil
}

// compressedSuffixes are the module file compressions a kernel package may
// use; staged files are always plain .ko.
var compressedSuffixes = []string{".ko.xz", ".ko.zst", ".ko.gz"}

// NameFromPath returns the canonical module name of a module file path.
func NameFromPath(p string) string {
	b := path.Base(p)
	for _, s := range compressedSuffixes {
		if strings.HasSuffix(b, s) {
			return board.CanonicalModule(strings.TrimSuffix(b, s))
		}
	}
	return board.CanonicalModule(strings.TrimSuffix(b, ".ko"))
}

// StagedPath is the path of a module file in the image (always plain .ko).
func StagedPath(p string) string {
	for _, s := range compressedSuffixes {
		if strings.HasSuffix(p, s) {
			return strings.TrimSuffix(p, s) + ".ko"
		}
	}
	return p
}

// Plan is what the image gets.
type Plan struct {
	// Modules is the image board.json "modules": every required board module
	// preceded by its dependencies and softdeps, in load order.
	Modules []string
	// Optional is the image board.json "optional_modules": CPU-specific
	// variants from the required closure (kernel/arch/..., e.g.
	// crc32c_intel, which refuses to load on CPUs without SSE4.2; a generic
	// implementation is in Modules) and the closure of the board's optional
	// modules, in load order.
	Optional []string
	// Builtin lists board modules that are built into the kernel (nothing to
	// load; they appear in neither list).
	Builtin []string
	// Files are the module files to copy, as modprobe names them (relative
	// to /lib/modules/RELEASE), sorted.
	Files []string
}

// MakePlan orders the closures. closure maps each board module (canonical
// name) to its `modprobe --show-depends` result.
func MakePlan(required, optional []string, closure map[string][]Dep) (Plan, error) {
	var p Plan
	named := map[string]bool{}
	for _, m := range required {
		named[board.CanonicalModule(m)] = true
	}
	added := map[string]bool{}
	files := map[string]bool{}
	add := func(name string, isRequired bool) error {
		deps, ok := closure[name]
		if !ok {
			return fmt.Errorf("modules: no closure for %q", name)
		}
		for _, d := range deps {
			if d.Builtin {
				if d.Name == name {
					p.Builtin = append(p.Builtin, name)
				}
				continue
			}
			files[d.Path] = true
			if added[d.Name] {
				continue
			}
			added[d.Name] = true
			if isRequired && (named[d.Name] || !strings.HasPrefix(d.Path, "kernel/arch/")) {
				p.Modules = append(p.Modules, d.Name)
			} else {
				p.Optional = append(p.Optional, d.Name)
			}
		}
		return nil
	}
	for _, m := range required {
		if err := add(board.CanonicalModule(m), true); err != nil {
			return Plan{}, err
		}
	}
	for _, m := range optional {
		if err := add(board.CanonicalModule(m), false); err != nil {
			return Plan{}, err
		}
	}
	for f := range files {
		p.Files = append(p.Files, f)
	}
	slices.Sort(p.Files)
	return p, nil
}
