package power

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ButtonName is the input device name of the ACPI power button.
const ButtonName = "Power Button"

// FindButtons returns the event device nodes (devDir/eventN) whose name in
// sysClassInput/eventN/device/name is "Power Button".
func FindButtons(sysClassInput, devDir string) []string {
	entries, err := os.ReadDir(sysClassInput)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "event") {
			continue
		}
		name, err := os.ReadFile(filepath.Join(sysClassInput, e.Name(), "device", "name"))
		if err != nil || strings.TrimSpace(string(name)) != ButtonName {
			continue
		}
		out = append(out, filepath.Join(devDir, e.Name()))
	}
	sort.Strings(out)
	return out
}

// Watch reads input events from r until it fails or ctx ends, calling
// onPress for every power key press.
func Watch(ctx context.Context, r io.Reader, size int, onPress func()) error {
	buf := make([]byte, size*16)
	var pending []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			whole := len(pending) / size * size
			for _, e := range ParseEvents(pending[:whole], size) {
				if IsPowerPress(e) {
					onPress()
				}
			}
			pending = append(pending[:0], pending[whole:]...)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// WatchDevice opens an event device and watches it until ctx ends.
func WatchDevice(ctx context.Context, dev string, onPress func()) error {
	f, err := os.Open(dev)
	if err != nil {
		return fmt.Errorf("power: open %s: %w", dev, err)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	defer f.Close()
	if err := Watch(ctx, f, EventSize, onPress); err != nil && ctx.Err() == nil {
		return fmt.Errorf("power: read %s: %w", dev, err)
	}
	return nil
}
