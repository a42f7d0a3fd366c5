// Package metrics owns the health checker's Prometheus metrics: a Collector that
// renders scheduler snapshots (per real server and per probe) and service outcomes
// at scrape time, and observes every attempt (durations, results, lateness) as a
// scheduler.Observer.
//
// It must not change health state or serve HTTP (the API mounts its registry).
package metrics
