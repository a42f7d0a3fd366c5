// Package scheduler owns running health checks: it deduplicates subscriptions (a
// real server of a virtual service with its check spec) into one probe per
// (target, spec) with reference counts, keeps each probe's state across config
// changes, orders the probes in a timer heap driven by an injected clock (random
// initial offset from an injected Rand), and runs due attempts on a bounded pool of
// workers, measuring how late each one starts.
//
// Core is the pure part (dedup, heap, state updates); Scheduler drives it with a
// clock, a worker pool and observers. The package must not program IPVS, decide
// weights or quorum (see the service package) or start a goroutine per check.
package scheduler
