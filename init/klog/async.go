package klog

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// AsyncWriter queues whole lines for one underlying writer. Write never
// blocks: it copies the line into a bounded queue, or drops and counts it
// when the queue is full. Until a writer is attached, lines wait in the queue.
type AsyncWriter struct {
	name    string
	queue   chan []byte
	attach  chan io.Writer
	dropped atomic.Uint64
	pending atomic.Int64 // queued or being written

	mu     sync.Mutex
	closed bool
	done   chan struct{}
}

// NewAsyncWriter starts the writer goroutine. depth bounds the queue.
func NewAsyncWriter(name string, depth int) *AsyncWriter {
	if depth < 1 {
		depth = 1
	}
	a := &AsyncWriter{
		name:   name,
		queue:  make(chan []byte, depth),
		attach: make(chan io.Writer, 1),
		done:   make(chan struct{}),
	}
	go a.loop()
	return a
}

// Attach sets (or replaces) the underlying writer.
func (a *AsyncWriter) Attach(w io.Writer) {
	// Replace a not yet consumed writer instead of blocking.
	for {
		select {
		case a.attach <- w:
			return
		default:
			select {
			case <-a.attach:
			default:
			}
		}
	}
}

// Write queues a copy of p. It always reports success: a dropped line is
// counted, not returned as an error, because the caller cannot do better.
func (a *AsyncWriter) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		a.dropped.Add(1)
		return len(p), nil
	}
	line := append([]byte(nil), p...)
	a.pending.Add(1)
	select {
	case a.queue <- line:
	default:
		a.pending.Add(-1)
		a.dropped.Add(1)
	}
	return len(p), nil
}

// Dropped is the number of lines dropped so far.
func (a *AsyncWriter) Dropped() uint64 { return a.dropped.Load() }

// Flush waits until every queued line has been written or timeout passes.
// It reports whether the queue drained.
func (a *AsyncWriter) Flush(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for a.pending.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Close stops accepting lines; queued lines are still written.
func (a *AsyncWriter) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
}

func (a *AsyncWriter) loop() {
	defer close(a.done)
	var w io.Writer
	var reported uint64
	for {
		if w == nil {
			w = <-a.attach
			continue
		}
		select {
		case nw := <-a.attach:
			w = nw
			continue
		case line, ok := <-a.queue:
			if !ok {
				return
			}
			a.write(w, line)
			// Report drops once the queue has room again, before the line
			// counts as done, so a Flush that returns has the note written.
			if d := a.dropped.Load(); d != reported && len(a.queue) == 0 {
				a.write(w, fmt.Appendf(nil, "lvsinit: %s stalled: %d log lines dropped so far\n", a.name, d))
				reported = d
			}
			a.pending.Add(-1)
		}
	}
}

func (a *AsyncWriter) write(w io.Writer, line []byte) {
	defer func() { _ = recover() }() // a panicking writer must not kill PID 1
	_, _ = w.Write(line)
}
