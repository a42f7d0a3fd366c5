package vmlab

import (
	"reflect"
	"testing"
)

func TestLabOwner(t *testing.T) {
	for name, want := range map[string]int{
		"lvl-123-1":        123,
		"lvl-123-17-rs1":   123,
		"lvl-9-2-client":   9,
		"lvl-123":          0,
		"lvl-x-1":          0,
		"lvl-1-1-RS":       0,
		"lvl-1-1-a-b":      0,
		"other-123-1":      0,
		"xlvl-123-1":       0,
		"lvl-0-1":          0,
		"lvl-123-1-":       0,
		"lvl-12345678-3-h": 12345678,
	} {
		pid, ok := labOwner(name)
		if ok != (want != 0) || pid != want {
			t.Errorf("labOwner(%q) = %d, %v; want %d", name, pid, ok, want)
		}
	}
}

func TestStaleNamespacesOnlyDeadOwnersHostsFirst(t *testing.T) {
	names := []string{"lvl-10-1", "lvl-10-1-rs1", "lvl-20-1", "lvl-20-1-c", "foo", "lvl-10-2", "lvl-10-1-client"}
	alive := func(pid int) bool { return pid == 20 }
	got := staleNamespaces(names, alive)
	want := []string{"lvl-10-1-client", "lvl-10-1-rs1", "lvl-10-1", "lvl-10-2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stale = %v, want %v", got, want)
	}
}
