// Package klog is PID 1's logger: a log/slog handler that formats one line per
// record ("lvsinit: message key=value") and hands it to sinks (the console and
// /dev/kmsg) through bounded queues drained by writer goroutines.
//
// It owns formatting, queueing, dropping and counting. It must never block the
// caller: when a sink stalls (a console under flow control, a wedged serial
// line) lines are dropped and counted, and a "lines dropped" note is written
// once the sink moves again. It must not open devices itself; the caller
// attaches writers.
package klog
