package kmod

import (
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Modaliases returns the distinct modalias strings of devices under
// sysfs/bus/*/devices/* that have no driver bound yet. fsys is rooted at
// /sys.
func Modaliases(fsys fs.FS) []string {
	matches, _ := fs.Glob(fsys, "bus/*/devices/*/modalias")
	seen := map[string]bool{}
	var out []string
	for _, m := range matches {
		dev := path.Dir(m)
		if _, err := fs.Stat(fsys, path.Join(dev, "driver")); err == nil {
			continue // already bound
		}
		data, err := fs.ReadFile(fsys, m)
		if err != nil {
			continue
		}
		a := strings.TrimSpace(string(data))
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// ColdplugResult summarises a coldplug pass.
type ColdplugResult struct {
	Devices int              // modalias strings looked at
	Matched int              // of those, with at least one matching module
	Failed  map[string]error // modalias -> error, for matches that did not load
}

// Coldplug loads the modules matching present devices. Loading a bus driver
// (virtio_pci) makes new devices appear (virtio disks and NICs), so it
// repeats until a pass loads nothing new, at most rounds times.
func (p *Prober) Coldplug(sysfs fs.FS, rounds int) ColdplugResult {
	res := ColdplugResult{Failed: map[string]error{}}
	tried := map[string]bool{}
	for range rounds {
		before := len(p.Loaded)
		for _, a := range Modaliases(sysfs) {
			if tried[a] {
				continue
			}
			tried[a] = true
			res.Devices++
			if len(p.idx.Resolve(a)) == 0 {
				continue
			}
			res.Matched++
			if err := p.Probe(a); err != nil {
				res.Failed[a] = err
			}
		}
		if len(p.Loaded) == before {
			break
		}
	}
	return res
}

// SysFS is the fs.FS for coldplug on a live system.
func SysFS() fs.FS { return os.DirFS("/sys") }
