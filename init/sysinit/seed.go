package sysinit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Seed locations.
const (
	FwCfgSeed = "/sys/firmware/qemu_fw_cfg/by_name/opt/lvsbox/seed.json/raw"
	RunSeed   = "/run/lvsbox/seed.json"
)

// Seed is a discovered seed configuration.
type Seed struct {
	Path   string // what to pass to the daemon's --seed
	Source string // "fw_cfg" or "data disk"
}

// FindSeed looks for a seed: the fw_cfg item (copied to runSeed, since sysfs
// files are awkward to hand to a daemon), else seed.json in dataDir. It
// returns a zero Seed when there is none.
func FindSeed(fwcfg, runSeed, dataDir string) (Seed, error) {
	data, err := os.ReadFile(fwcfg)
	switch {
	case err == nil:
		if err := os.MkdirAll(filepath.Dir(runSeed), 0o755); err != nil {
			return Seed{}, fmt.Errorf("seed: %w", err)
		}
		if err := os.WriteFile(runSeed, data, 0o600); err != nil {
			return Seed{}, fmt.Errorf("seed: copy fw_cfg item: %w", err)
		}
		return Seed{Path: runSeed, Source: "fw_cfg"}, nil
	case !errors.Is(err, os.ErrNotExist):
		return Seed{}, fmt.Errorf("seed: read fw_cfg item: %w", err)
	}
	p := filepath.Join(dataDir, "seed.json")
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
		return Seed{Path: p, Source: "data disk"}, nil
	}
	return Seed{}, nil
}
