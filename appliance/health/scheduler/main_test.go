package scheduler

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lvsbox/lvsbox/tools/testenv"
)

// TestMain runs the checker side of the netns test when re-executed as its helper.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(netnsHelper())
	}
	code := m.Run()
	if hcDir != "" {
		os.RemoveAll(hcDir)
	}
	os.Exit(code)
}

var (
	hcOnce sync.Once
	hcPath string
	hcErr  error
	hcDir  string
)

// hcserver builds ../internal/hcserver once per test binary and returns its path.
func hcserver(tb testing.TB) string {
	tb.Helper()
	_, err := exec.LookPath("go")
	testenv.Need(tb, err == nil, "needs the go tool on PATH to build the test server")
	hcOnce.Do(func() {
		hcDir, hcErr = os.MkdirTemp("", "lvhc-bin-")
		if hcErr != nil {
			return
		}
		hcPath = filepath.Join(hcDir, "hcserver")
		out, err := exec.Command("go", "build", "-o", hcPath, "../internal/hcserver").CombinedOutput()
		if err != nil {
			hcErr = err
			tb.Logf("go build hcserver: %s", out)
		}
	})
	if hcErr != nil {
		tb.Fatalf("build hcserver: %v", hcErr)
	}
	return hcPath
}
