package ipvs

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Features is what the running kernel's IPVS offers.
type Features struct {
	// Present: the kernel has IPVS (loaded, built in, or as a module). When false
	// nothing else can be said and the other fields are empty.
	Present bool
	// Schedulers are the scheduler names (rr, wrr, ...) built in, loaded or loadable.
	Schedulers []string
	// TunnelTypes are the encapsulations of tunnel forwarding: ipip always, gue from
	// Linux 5.2, gre from 5.3.
	TunnelTypes []TunnelType
}

// notSchedulers are ip_vs_* modules that are not schedulers.
var notSchedulers = []string{"ftp", "pe_sip"}

// ReadFeatures inspects a kernel's modules: /proc/modules under procRoot (loaded),
// and modules.builtin plus the ip_vs*.ko* files under modRoot/lib/modules/release
// (built in, loadable). release is `uname -r`. It only reads files.
func ReadFeatures(procRoot, modRoot, release string) Features {
	mods := map[string]bool{}
	note := func(name string) {
		name = strings.ReplaceAll(name, "-", "_")
		if name == "ip_vs" || strings.HasPrefix(name, "ip_vs_") {
			mods[name] = true
		}
	}
	if f, err := os.Open(filepath.Join(procRoot, "proc/modules")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fields := strings.Fields(sc.Text()); len(fields) > 0 {
				note(fields[0])
			}
		}
		f.Close()
	}
	dir := filepath.Join(modRoot, "lib/modules", release)
	if f, err := os.Open(filepath.Join(dir, "modules.builtin")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			note(moduleName(sc.Text()))
		}
		f.Close()
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() && strings.Contains(d.Name(), ".ko") {
			note(moduleName(d.Name()))
		}
		return nil
	})
	if !mods["ip_vs"] {
		if _, err := os.Stat(filepath.Join(procRoot, "proc/net/ip_vs")); err != nil {
			return Features{}
		}
	}
	f := Features{Present: true, TunnelTypes: []TunnelType{TunnelIPIP}}
	for m := range mods {
		s, ok := strings.CutPrefix(m, "ip_vs_")
		if ok && !slices.Contains(notSchedulers, s) && !strings.HasPrefix(s, "pe_") {
			f.Schedulers = append(f.Schedulers, s)
		}
	}
	slices.Sort(f.Schedulers)
	if kernelAtLeast(release, 5, 2) {
		f.TunnelTypes = append(f.TunnelTypes, TunnelGUE)
	}
	if kernelAtLeast(release, 5, 3) {
		f.TunnelTypes = append(f.TunnelTypes, TunnelGRE)
	}
	return f
}

// moduleName is the module name of a path like kernel/net/netfilter/ipvs/ip_vs_rr.ko.xz.
func moduleName(path string) string {
	base := filepath.Base(path)
	name, _, _ := strings.Cut(base, ".ko")
	return name
}

// kernelAtLeast compares a release string ("6.1.0-28-amd64") with major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
