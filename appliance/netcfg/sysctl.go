package netcfg

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ProcSys is the Sysctl behind /proc/sys (Root "" means "/proc/sys"; tests use a
// temporary directory).
type ProcSys struct {
	Root string
}

func (p ProcSys) path(name string) (string, error) {
	if name == "" || strings.Contains(name, "/") || strings.Contains(name, "..") {
		return "", fmt.Errorf("netcfg: bad sysctl name %q", name)
	}
	root := p.Root
	if root == "" {
		root = "/proc/sys"
	}
	return filepath.Join(root, strings.ReplaceAll(name, ".", "/")), nil
}

// Get reads a sysctl.
func (p ProcSys) Get(name string) (string, error) {
	path, err := p.path(name)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("netcfg: read sysctl %s: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Set writes a sysctl.
func (p ProcSys) Set(name, value string) error {
	path, err := p.path(name)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("netcfg: set sysctl %s: %w", name, err)
	}
	_, werr := f.WriteString(value + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("netcfg: set sysctl %s: %w", name, werr)
	}
	return nil
}
