package testenv

import (
	"errors"
	"net"
	"runtime"
	"testing"
)

// TestInNetns: fn runs in the namespace (a socket made there sees its links), and
// the thread is back in the original namespace afterwards.
func TestInNetns(t *testing.T) {
	NeedRoot(t)
	name, ns := Netns(t, "lvsbox-testenv")
	IP(t, "-n", name, "link", "add", "only-here", "type", "veth", "peer", "name", "only-here-p")
	var inside bool
	if err := InNetns(ns, func() error {
		_, err := net.InterfaceByName("only-here")
		inside = err == nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !inside {
		t.Error("fn did not run in the namespace")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, err := net.InterfaceByName("only-here"); err == nil {
		t.Error("still in the namespace after InNetns")
	}
	want := errors.New("from fn")
	if err := InNetns(ns, func() error { return want }); err != want {
		t.Errorf("InNetns returned %v, want fn's error", err)
	}
}
