// Package healthd wires health checking into the daemon: it maps the configuration's
// health checks onto health.Spec subscriptions (one per checked real server, shared
// probes deduplicated by the scheduler), runs the scheduler, evaluates every virtual
// service (weights, on_failure, sorry server, quorum with hysteresis) whenever a
// check changes state or the configuration changes, and hands the verdicts to the
// engine (engine.Health), kicking it on every change. It publishes up/down and
// quorum/sorry events, serves the health part of the status, the Prometheus
// collector, and the per-service health VRRP tracking consumes.
//
// It must not program IPVS (the engine does, from the verdicts), read the store, or
// run checks itself (appliance/health does).
package healthd
