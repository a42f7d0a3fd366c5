package netcfg

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LedgerFile is the ledger's file name inside the run directory.
const LedgerFile = "netcfg-owned.json"

// loadLedger reads the ledger; a missing file is an empty ledger.
func loadLedger(path string) (Ledger, error) {
	var l Ledger
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("netcfg: read ledger: %w", err)
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return Ledger{}, fmt.Errorf("netcfg: ledger %s is corrupt (nothing lvsbox added earlier will be removed): %w", path, err)
	}
	return l, nil
}

// saveLedger writes the ledger atomically.
func saveLedger(path string, l Ledger) error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("netcfg: encode ledger: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("netcfg: ledger dir: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("netcfg: write ledger: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("netcfg: write ledger: %w", err)
	}
	return nil
}
