package importer

import "testing"

func TestSchedulerFlag(t *testing.T) {
	for _, c := range []struct {
		sched, in, want string
		ok              bool
	}{
		{"sh", "flag-1", "sh-fallback", true},
		{"mh", "flag-2", "mh-port", true},
		{"sh", "sh-port", "sh-port", true},
		{"rr", "flag-1", "flag-1", false},
		{"mh", "sh-port", "sh-port", false},
		{"sh", "bogus", "bogus", false},
	} {
		if got, ok := SchedulerFlag(c.sched, c.in); got != c.want || ok != c.ok {
			t.Errorf("SchedulerFlag(%q, %q) = %q, %v; want %q, %v", c.sched, c.in, got, ok, c.want, c.ok)
		}
	}
}
