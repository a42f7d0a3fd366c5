package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// EnvRequireAll=1 turns every skip of a root, tool or image gate into a failure.
const EnvRequireAll = "LVSBOX_REQUIRE_ALL"

// RequireAll reports whether LVSBOX_REQUIRE_ALL=1 is set.
func RequireAll() bool { return os.Getenv(EnvRequireAll) == "1" }

// Need skips tb with the reason unless ok; under LVSBOX_REQUIRE_ALL=1 it fails
// instead.
func Need(tb testing.TB, ok bool, format string, args ...any) {
	tb.Helper()
	if ok {
		return
	}
	reason := fmt.Sprintf(format, args...)
	if RequireAll() {
		tb.Fatalf("%s (required: %s=1)", reason, EnvRequireAll)
	}
	tb.Skip(reason)
}

// NeedTools needs each named program on PATH.
func NeedTools(tb testing.TB, names ...string) {
	tb.Helper()
	for _, n := range names {
		_, err := exec.LookPath(n)
		Need(tb, err == nil, "needs %s on PATH", n)
	}
}

// NeedRoot gates the root tiers (network namespaces, raw sockets, VMs): it
// always skips under -short (the unit tier), and needs uid 0 and ip(8).
func NeedRoot(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: unit tier only (root, namespace and VM tests skipped)")
	}
	Need(tb, os.Geteuid() == 0, "needs root (network namespaces, raw sockets)")
	NeedTools(tb, "ip")
}
