// Package ipvsmetrics exposes the IPVS table's counters, connection counts and
// kernel rate estimates as Prometheus metrics (a prometheus.Collector).
//
// It owns the metric names and labels (see docs/ipvs.md). It reads the table through
// a Source given by its user on every scrape and must not talk to the kernel or
// register itself: wiring /metrics is the API's job.
package ipvsmetrics
