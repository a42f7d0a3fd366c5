package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// VersionFile is where the image build puts its build info.
const VersionFile = "/etc/lvsbox/version.json"

// Version is the image's build info (see docs/architecture.md).
type Version struct {
	GitRevision   string `json:"git_revision"`
	GoVersion     string `json:"go_version"`
	KernelVersion string `json:"kernel_version"`
	Board         string `json:"board"`
}

// LoadVersion reads a version file; a missing file is (nil, nil).
func LoadVersion(path string) (*Version, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("api: read %s: %w", path, err)
	}
	var v Version
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("api: parse %s: %w", path, err)
	}
	return &v, nil
}
