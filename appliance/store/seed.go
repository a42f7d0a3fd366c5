package store

import (
	"fmt"
	"os"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// SeedComment is the comment of the revision a seed import creates.
const SeedComment = "seed import"

// ImportSeed commits the seed file at path as the first revision when the store is
// empty. It returns the new revision number, or 0 when the store already had a
// configuration (the seed is then not read). A seed that does not decode or validate is
// an error (config.Errors names every field) and nothing is stored.
func ImportSeed(s *Store, path string) (uint64, error) {
	empty, err := s.Empty()
	if err != nil {
		return 0, err
	}
	if !empty {
		return 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	defer f.Close()
	cfg, err := config.Decode(f)
	if err != nil {
		return 0, fmt.Errorf("seed %s: %w", path, err)
	}
	ri, err := s.Apply(0, cfg, Meta{User: SystemUser, Comment: SeedComment})
	if err != nil {
		return 0, fmt.Errorf("seed %s: %w", path, err)
	}
	return ri.Number, nil
}
