package keepalived

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// Options tune an import.
type Options struct {
	// ConfigID selects the "@id" conditional lines that apply, like keepalived's -i
	// option (keepalived defaults it to the short host name). Empty: no @id line
	// applies and every @^id line does.
	ConfigID string
	// MaxIncludeDepth bounds how deeply include files may nest; 0 means 16.
	MaxIncludeDepth int
}

// FileSystem is where keepalived.conf and its include files are read from.
type FileSystem interface {
	ReadFile(name string) ([]byte, error)
	// Glob returns the names matching pattern (filepath.Match syntax).
	Glob(pattern string) ([]string, error)
}

// OS reads the host's files.
type OS struct{}

// ReadFile implements FileSystem.
func (OS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// Glob implements FileSystem.
func (OS) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// MapFS is an in-memory FileSystem: file name → contents.
type MapFS map[string]string

// ReadFile implements FileSystem.
func (m MapFS) ReadFile(name string) ([]byte, error) {
	if s, ok := m[filepath.Clean(name)]; ok {
		return []byte(s), nil
	}
	if s, ok := m[name]; ok {
		return []byte(s), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Glob implements FileSystem.
func (m MapFS) Glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	var out []string
	for name := range m {
		if ok, _ := filepath.Match(filepath.Clean(pattern), filepath.Clean(name)); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Parse reads the keepalived configuration name and its include files from fsys and
// returns its lines as a tree. Syntax problems (unbalanced braces, unreadable or
// looping includes, unterminated quotes, unsupported preprocessor features) are
// notes; the error is only for a main file that cannot be read.
func Parse(fsys FileSystem, name string, opts Options) ([]*Node, importer.Notes, error) {
	data, err := fsys.ReadFile(name)
	if err != nil {
		return nil, nil, fmt.Errorf("keepalived: read %s: %w", name, err)
	}
	var notes importer.Notes
	l := &lexer{fs: fsys, configID: opts.ConfigID, maxDepth: opts.MaxIncludeDepth, notes: &notes, defs: map[string]string{}}
	if l.maxDepth <= 0 {
		l.maxDepth = defaultMaxIncludeDepth
	}
	l.file(name, data, 0)
	p := &parser{toks: l.toks, notes: &notes}
	return p.block(0, importer.Pos{}), notes, nil
}

// Import reads the keepalived configuration at path (with its include files) and
// maps it to an lvsbox configuration. The notes list every keyword that could not be
// mapped (with file and line), every problem of the source, every remark on how
// something was mapped, and, last, every validation error and warning of the result
// (importer.Finish): a result that does not validate always carries notes of
// severity error saying why. The error is only for a main file that cannot be read.
func Import(path string, opts Options) (config.Config, []importer.Note, error) {
	return ImportFS(OS{}, path, opts)
}

// ImportFS is Import reading from fsys.
func ImportFS(fsys FileSystem, path string, opts Options) (config.Config, []importer.Note, error) {
	nodes, notes, err := Parse(fsys, path, opts)
	if err != nil {
		return config.Config{}, nil, err
	}
	m := newMapper(notes)
	cfg := m.run(nodes)
	return cfg, importer.Finish(cfg, dedupe(m.notes), m.origins), nil
}

// dedupe drops repeated notes (a virtual_server used through a group is mapped once
// per group entry and would report the same thing each time).
func dedupe(notes importer.Notes) importer.Notes {
	seen := map[importer.Note]bool{}
	out := notes[:0]
	for _, n := range notes {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
