package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// Suffix returns 8 random hex digits for unique namespace and link names
// (namespace deletion is asynchronous, so names are never reused).
func Suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// IP runs ip(8) with args and returns its trimmed output; a failure fails tb.
func IP(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Netns makes a throwaway network namespace named prefix-<Suffix>, with lo
// up, and returns its name and a handle. Both are removed when tb ends, also
// when it fails.
func Netns(tb testing.TB, prefix string) (string, netns.NsHandle) {
	tb.Helper()
	name := prefix + "-" + Suffix()
	IP(tb, "netns", "add", name)
	tb.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			tb.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	IP(tb, "-n", name, "link", "set", "lo", "up")
	h, err := netns.GetFromName(name)
	if err != nil {
		tb.Fatalf("netns %s: %v", name, err)
	}
	tb.Cleanup(func() { h.Close() })
	return name, h
}

// InNetns runs fn on an OS thread that has joined ns, then moves the thread back.
// Sockets and /proc/sys/net files belong to the namespace of the thread that
// opens them; goroutines fn starts run elsewhere. Should fn end the goroutine
// (t.Fatal), the thread stays locked and dies with it.
func InNetns(ns netns.NsHandle, fn func() error) error {
	runtime.LockOSThread()
	origin, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer origin.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	ferr := fn()
	if err := netns.Set(origin); err != nil {
		return err // the thread stays locked and dies with this goroutine
	}
	runtime.UnlockOSThread()
	return ferr
}
