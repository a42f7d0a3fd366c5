package engine

import (
	"context"
	"testing"
	"time"
)

func TestWaitApplied(t *testing.T) {
	e := New(Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := e.WaitApplied(ctx, 0); err == nil {
		t.Fatal("WaitApplied returned before any pass")
	}
	done := make(chan error, 1)
	go func() { done <- e.WaitApplied(context.Background(), 3) }()
	e.gate.passed(2)
	select {
	case err := <-done:
		t.Fatalf("WaitApplied(3) returned after a pass of revision 2: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	e.gate.passed(3)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitApplied(3) still waiting after a pass of revision 3")
	}
	if err := e.WaitApplied(context.Background(), 1); err != nil {
		t.Fatalf("older revision: %v", err)
	}
}
