package board

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultKernelPackage is Debian's kernel metapackage; the build resolves it
// to the concrete linux-image-<abi>-amd64 package.
const DefaultKernelPackage = "linux-image-amd64"

// FileName is the board file name inside a board directory.
const FileName = "board.json"

// Kernel selects the Debian kernel package.
type Kernel struct {
	// Package is a Debian binary package: the metapackage linux-image-amd64
	// (resolved at build time) or a concrete linux-image-6.1.0-NN-amd64.
	Package string `json:"package"`
	// Version pins an exact Debian version of Package (e.g. "6.1.192-2").
	// Empty means apt's candidate version.
	Version string `json:"version,omitempty"`
}

// Board is the build-side board description: a superset of the image's
// /etc/lvsbox/board.json.
type Board struct {
	Board       string `json:"board"`
	Description string `json:"description,omitempty"`
	Hostname    string `json:"hostname"`
	// Console is the device PID 1 keeps the rescue shell on, without /dev/.
	Console string `json:"console"`
	// Cmdline is the kernel command line (QEMU -append, grub linux line).
	Cmdline string `json:"cmdline"`
	Kernel  Kernel `json:"kernel"`
	// Modules must load; in load order. Their dependencies are added by the
	// build.
	Modules []string `json:"modules"`
	// OptionalModules may fail to load (hardware that may be absent).
	OptionalModules []string `json:"optional_modules"`
	// ModuleOptions are parameters PID 1 passes when loading a module, e.g.
	// {"bonding": "max_bonds=0"} (what Debian's modprobe.d sets, so no bond0
	// or dummy0 appears by itself).
	ModuleOptions map[string]string `json:"module_options,omitempty"`
}

// Image is the contract file /etc/lvsbox/board.json read by PID 1.
type Image struct {
	Board           string   `json:"board"`
	Hostname        string   `json:"hostname"`
	Console         string   `json:"console"`
	Modules         []string `json:"modules"`
	OptionalModules []string `json:"optional_modules"`
	// ModuleOptions (additive to the first contract): module name ->
	// parameters for finit_module.
	ModuleOptions map[string]string `json:"module_options,omitempty"`
}

var (
	boardNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	hostnameRE  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	consoleRE   = regexp.MustCompile(`^(tty[A-Za-z]*[0-9]+|hvc[0-9]+|console)$`)
	moduleRE    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	packageRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]+$`)
	versionRE   = regexp.MustCompile(`^[0-9A-Za-z.+~:-]+$`)
	optionsRE   = regexp.MustCompile(`^[A-Za-z0-9_]+=[^\s"']*( [A-Za-z0-9_]+=[^\s"']*)*$`)
)

// Load reads DIR/board.json strictly (unknown fields are errors), fills
// defaults and validates it. The board name must equal the directory name.
func Load(dir string) (Board, error) {
	p := filepath.Join(dir, FileName)
	data, err := os.ReadFile(p)
	if err != nil {
		return Board{}, fmt.Errorf("board: %w", err)
	}
	b, err := Parse(data)
	if err != nil {
		return Board{}, fmt.Errorf("board: %s: %w", p, err)
	}
	if base := filepath.Base(filepath.Clean(dir)); b.Board != base {
		return Board{}, fmt.Errorf("board: %s: name %q does not match directory %q", p, b.Board, base)
	}
	return b, nil
}

// Parse decodes and validates a board file.
func Parse(data []byte) (Board, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Board
	if err := dec.Decode(&b); err != nil {
		return Board{}, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return Board{}, errors.New("decode: trailing data after the board object")
	}
	if b.Kernel.Package == "" {
		b.Kernel.Package = DefaultKernelPackage
	}
	if err := b.Validate(); err != nil {
		return Board{}, err
	}
	return b, nil
}

// Validate checks every field; the error names the first bad one.
func (b Board) Validate() error {
	switch {
	case !boardNameRE.MatchString(b.Board):
		return fmt.Errorf("board: invalid name %q", b.Board)
	case !hostnameRE.MatchString(b.Hostname):
		return fmt.Errorf("hostname: invalid %q", b.Hostname)
	case !consoleRE.MatchString(b.Console):
		return fmt.Errorf("console: invalid %q (a device name such as ttyS0, without /dev/)", b.Console)
	case !strings.Contains(" "+b.Cmdline, " console="):
		return fmt.Errorf("cmdline: %q has no console= argument", b.Cmdline)
	case strings.ContainsAny(b.Cmdline, "\n\r'\""):
		return fmt.Errorf("cmdline: %q contains quotes or newlines", b.Cmdline)
	case !packageRE.MatchString(b.Kernel.Package):
		return fmt.Errorf("kernel.package: invalid %q", b.Kernel.Package)
	case b.Kernel.Version != "" && !versionRE.MatchString(b.Kernel.Version):
		return fmt.Errorf("kernel.version: invalid %q", b.Kernel.Version)
	case len(b.Modules) == 0:
		return errors.New("modules: empty")
	}
	seen := map[string]string{}
	for field, list := range map[string][]string{"modules": b.Modules, "optional_modules": b.OptionalModules} {
		for _, m := range list {
			if !moduleRE.MatchString(m) {
				return fmt.Errorf("%s: invalid module name %q", field, m)
			}
			n := CanonicalModule(m)
			if prev, dup := seen[n]; dup {
				return fmt.Errorf("%s: module %q listed twice (also in %s)", field, m, prev)
			}
			seen[n] = field
		}
	}
	for m, opts := range b.ModuleOptions {
		if seen[CanonicalModule(m)] == "" || m != CanonicalModule(m) {
			return fmt.Errorf("module_options: %q is not a listed module (use the underscore name)", m)
		}
		if !optionsRE.MatchString(opts) {
			return fmt.Errorf("module_options: %s: invalid parameters %q", m, opts)
		}
	}
	return nil
}

// CanonicalModule returns the kernel's name for a module: '-' becomes '_'
// (as in /proc/modules), so usb-storage and usb_storage are the same module.
func CanonicalModule(name string) string {
	return strings.ReplaceAll(name, "-", "_")
}

// ImageFile renders /etc/lvsbox/board.json with the resolved module lists.
func (b Board) ImageFile(modules, optional []string) ([]byte, error) {
	img := Image{
		Board:           b.Board,
		Hostname:        b.Hostname,
		Console:         b.Console,
		Modules:         nonNil(modules),
		OptionalModules: nonNil(optional),
		ModuleOptions:   b.ModuleOptions,
	}
	data, err := json.MarshalIndent(img, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("board: encode image file: %w", err)
	}
	return append(data, '\n'), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
