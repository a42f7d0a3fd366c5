package kmod

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// FinitLoader loads modules with finit_module(2). Compressed modules
// (.ko.xz, .ko.gz, .ko.zst) are handed to the kernel with
// MODULE_INIT_COMPRESSED_FILE (kernel 5.17+ with CONFIG_MODULE_DECOMPRESS).
type FinitLoader struct{}

// Load implements Loader. EEXIST (already loaded) is success.
func (FinitLoader) Load(path, params string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	switch filepath.Ext(path) {
	case ".xz", ".gz", ".zst":
		flags |= unix.MODULE_INIT_COMPRESSED_FILE
	}
	err = unix.FinitModule(int(f.Fd()), params, flags)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finit_module %s: %w", filepath.Base(path), err)
	}
	return nil
}

// LoadedModules returns the module names in /proc/modules.
func LoadedModules() ([]string, error) {
	f, err := os.Open("/proc/modules")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 0 {
			out = append(out, fields[0])
		}
	}
	return out, sc.Err()
}

// KernelRelease is uname -r.
func KernelRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

// ModuleDir finds /lib/modules/RELEASE (or /usr/lib/modules/RELEASE).
func ModuleDir(release string) (string, error) {
	for _, base := range []string{"/lib/modules", "/usr/lib/modules"} {
		d := filepath.Join(base, release)
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d, nil
		}
	}
	return "", fmt.Errorf("kmod: no module directory for %s: %w", release, os.ErrNotExist)
}
