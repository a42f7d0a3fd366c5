package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/sysctl"
)

// KernelCheck checks a configuration against the running kernel: schedulers and
// tunnel types its IPVS lacks, and sysctl overrides naming keys it does not have.
// A kernel without IPVS leaves schedulers, tunnels and net.ipv4.vs.* keys unchecked.
type KernelCheck struct {
	// Features reports the kernel's IPVS (ipvs.ReadFeatures of the running kernel).
	Features func() ipvs.Features
	// Sysctl reads keys (nil: overrides are not checked).
	Sysctl sysctl.FS
}

// Env is the part of config.Env the kernel decides (schedulers, tunnel types); nil
// lists when the kernel has no IPVS.
func (k KernelCheck) Env() config.Env {
	var env config.Env
	if k.Features == nil {
		return env
	}
	f := k.Features()
	if !f.Present {
		return env
	}
	env.Schedulers = slices.Clone(f.Schedulers)
	if env.Schedulers == nil {
		env.Schedulers = []string{}
	}
	env.TunnelTypes = []config.TunnelType{}
	for _, t := range f.TunnelTypes {
		env.TunnelTypes = append(env.TunnelTypes, config.TunnelType(t.String()))
	}
	return env
}

// Check returns the problems (as config.Errors; nil when there are none).
func (k KernelCheck) Check(cfg config.Config) error {
	var out config.Errors
	env := k.Env()
	if env.Schedulers != nil {
		var all config.Errors
		if errors.As(cfg.ValidateWith(env), &all) {
			// Only what the kernel adds: problems Validate() alone does not report.
			base := map[string]bool{}
			var plain config.Errors
			if errors.As(cfg.Validate(), &plain) {
				for _, e := range plain {
					base[e.Error()] = true
				}
			}
			for _, e := range all {
				if !base[e.Error()] {
					out = append(out, e)
				}
			}
		}
	}
	if k.Sysctl != nil {
		for _, key := range slices.Sorted(maps.Keys(cfg.Sysctls)) {
			if env.Schedulers == nil && strings.HasPrefix(key, "net.ipv4.vs.") {
				continue // no IPVS here: the vs keys cannot exist yet
			}
			if sysctl.ValidKey(key) != nil {
				continue // Validate reports bad syntax
			}
			if _, err := k.Sysctl.Read(key); errors.Is(err, fs.ErrNotExist) {
				out = append(out, config.FieldError{Path: fmt.Sprintf("sysctls[%s]", key),
					Msg: "the running kernel has no such sysctl (no file under /proc/sys)"})
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
