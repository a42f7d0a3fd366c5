package main

import (
	"strings"
	"testing"
)

func TestRefusesWhenNotPID1(t *testing.T) {
	err := run()
	if err == nil || !strings.Contains(err.Error(), "refusing to run as pid") {
		t.Fatalf("run() = %v", err)
	}
}
