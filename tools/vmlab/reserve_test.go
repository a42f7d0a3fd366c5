package vmlab

import (
	"errors"
	"testing"
)

func TestReserveNamesAndIndexes(t *testing.T) {
	l := &Lab{names: map[string]int{}, counts: map[string]int{}}
	for _, c := range []struct {
		kind, name string
		want       int
	}{{"host", "a", 0}, {"host", "b", 1}, {"guest", "a", 0}, {"guest", "lb", 1}, {"host", "c", 2}} {
		got, err := l.reserve(c.kind, c.name)
		if err != nil || got != c.want {
			t.Fatalf("reserve(%s, %s) = %d, %v; want %d", c.kind, c.name, got, err, c.want)
		}
	}
	if _, err := l.reserve("host", "b"); err == nil {
		t.Fatal("reserved host b twice")
	}
	l.closing = true
	if _, err := l.reserve("host", "d"); !errors.Is(err, errClosing) {
		t.Fatalf("reserve while closing: %v", err)
	}
}
