package health

import (
	"fmt"
	"time"
)

// Result is the outcome of one check attempt.
type Result struct {
	OK      bool
	Latency time.Duration // from the start of the attempt to its verdict
	// Text says what happened, for operators: `HTTP 503 from 10.0.0.11:80 in 12 ms`,
	// `connect: connection refused`, `timeout after 1s`.
	Text string
	// Weight is the weight a misc_dynamic script asked for, valid when HasWeight.
	Weight    int
	HasWeight bool
}

// Millis formats d for result texts: "0.35 ms", "4.2 ms", "12 ms".
func Millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.0f ms", ms)
	}
}
