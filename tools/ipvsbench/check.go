package main

import (
	"fmt"
	"io"
	"time"
)

// checker prints one "CHECK <name> ok|FAIL <detail>" line per check and counts
// failures; the VM tests read these lines.
type checker struct {
	w      io.Writer
	failed int
}

func (c *checker) check(name string, fn func() (string, error)) {
	detail, err := fn()
	if err != nil {
		c.failed++
		fmt.Fprintf(c.w, "CHECK %s FAIL %v\n", name, err)
		return
	}
	fmt.Fprintf(c.w, "CHECK %s ok %s\n", name, detail)
}

func (c *checker) code() int {
	if c.failed > 0 {
		return 1
	}
	return 0
}

// dur formats a duration for the tables: 0.42 ms, 12.3 ms, 845 ms, 2.34 s.
func dur(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
