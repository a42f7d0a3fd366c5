package engine

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/sysctl"
)

// memSysctl is an in-memory sysctl.FS: every key exists with value "0" until
// written, except the keys in missing (which the kernel lacks).
type memSysctl struct {
	mu      sync.Mutex
	vals    map[string]string
	missing map[string]bool
	log     []string
}

func newMemSysctl() *memSysctl {
	return &memSysctl{vals: map[string]string{}, missing: map[string]bool{}}
}

func (m *memSysctl) Read(key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.missing[key] {
		return "", fmt.Errorf("read %s: %w", key, fs.ErrNotExist)
	}
	if v, ok := m.vals[key]; ok {
		return v, nil
	}
	return "0", nil
}

func (m *memSysctl) Write(key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.missing[key] {
		return fmt.Errorf("write %s: %w", key, fs.ErrNotExist)
	}
	m.vals[key] = value
	m.log = append(m.log, key+"="+value)
	return nil
}

// set changes a value behind lvsbox's back (not counted as a write).
func (m *memSysctl) set(key, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[key] = value
}

func (m *memSysctl) value(key string) string {
	v, _ := m.Read(key)
	return v
}

func (m *memSysctl) writes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log)
}

func (m *memSysctl) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = nil
}

var _ sysctl.FS = (*memSysctl)(nil)

// forwardSysctls lists the forwarding keys the desired sysctls set to 1.
func forwardSysctls(t *testing.T, d Desired) string {
	t.Helper()
	set, err := sysctl.Desired(d.Sysctls)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, s := range set {
		if (s.Key == sysctl.KeyIPv4Forward || s.Key == sysctl.KeyIPv6Forward) && s.Value == "1" {
			keys[s.Key] = true
		}
	}
	return strings.Join(slices.Sorted(maps.Keys(keys)), ",")
}
