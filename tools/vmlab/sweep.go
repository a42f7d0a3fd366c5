package vmlab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// NetnsDir is where `ip netns` keeps named namespaces.
const NetnsDir = "/run/netns"

// labNameRE matches namespaces made by this package: Prefix-<pid>-<n> for
// labs and Prefix-<pid>-<n>-<host> for their host namespaces.
var labNameRE = regexp.MustCompile(`^` + Prefix + `-([0-9]+)-[0-9]+(?:-[a-z0-9]+)?$`)

// labOwner returns the pid that created namespace name, if it is one of ours.
func labOwner(name string) (int, bool) {
	m := labNameRE.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	pid, err := strconv.Atoi(m[1])
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// staleNamespaces picks, from names, our namespaces whose owner is not alive.
// Host namespaces sort before their lab so they are removed first.
func staleNamespaces(names []string, alive func(pid int) bool) []string {
	var stale []string
	for _, n := range names {
		if pid, ok := labOwner(n); ok && !alive(pid) {
			stale = append(stale, n)
		}
	}
	sort.Slice(stale, func(i, j int) bool {
		if len(stale[i]) != len(stale[j]) {
			return len(stale[i]) > len(stale[j])
		}
		return stale[i] < stale[j]
	})
	return stale
}

// pidAlive reports whether a process with this pid exists.
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Sweep removes lab namespaces left behind by earlier test runs whose
// process is gone (crashed, killed, or kept with LVSBOX_KEEP_LAB): it kills
// what still runs inside them and deletes them, and removes their lab
// directories in os.TempDir(). It returns the namespaces removed.
func Sweep(ctx context.Context) ([]string, error) {
	names, err := dirNames(NetnsDir)
	if err != nil {
		return nil, fmt.Errorf("vmlab: sweep: %w", err)
	}
	var removed []string
	var errs []error
	for _, ns := range staleNamespaces(names, pidAlive) {
		killNetnsPids(ctx, ns)
		if out, err := exec.CommandContext(ctx, "ip", "netns", "del", ns).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("vmlab: sweep %s: %w: %s", ns, err, strings.TrimSpace(string(out))))
			continue
		}
		removed = append(removed, ns)
	}
	tmp := os.TempDir()
	dirs, err := dirNames(tmp)
	if err != nil {
		errs = append(errs, fmt.Errorf("vmlab: sweep: %w", err))
	}
	for _, d := range staleNamespaces(dirs, pidAlive) {
		if fi, err := os.Lstat(filepath.Join(tmp, d)); err == nil && fi.IsDir() {
			errs = append(errs, os.RemoveAll(filepath.Join(tmp, d)))
		}
	}
	return removed, errors.Join(errs...)
}

// dirNames lists the entry names of dir; a missing dir is empty.
func dirNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}

// killNetnsPids SIGKILLs every process inside namespace ns (best effort).
func killNetnsPids(ctx context.Context, ns string) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
	if err != nil {
		return
	}
	self := os.Getpid()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != self {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
