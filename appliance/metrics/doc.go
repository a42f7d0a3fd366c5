// Package metrics owns the daemon's Prometheus registry and its HTTP handler
// (`/metrics`): the Go runtime and process collectors are always in it, and each
// part of the daemon (health checks, IPVS, VRRP) registers its own collector
// through Register.
//
// It must not define metrics of other packages or serve HTTP itself (the API
// mounts Handler).
package metrics
