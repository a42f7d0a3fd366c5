// Package api owns the daemon's HTTP interface: the versioned JSON API under
// /api/v1 (configuration get/put/validate, revisions, diff, rollback, confirm,
// export/import, status, login sessions, the SSE event stream, the OpenAPI document),
// the HTML status page, /healthz and /metrics (the registry's handler, mounted here).
// One route table serves three listeners: the
// root-only Unix socket (ListenUnix; the socket's permissions are the authentication),
// HTTPS (authenticated by appliance/auth; roles checked per route) and plain HTTP
// (status page, /api/v1/status, /healthz and /metrics only). Errors are always
// {"error", "details":[{"path","message"}]} with the validation paths.
//
// It must not touch the kernel or the store directly: the store, the planner (dry-run
// kernel changes) and the status come in through small interfaces, and it only reads
// the engine's snapshots, never blocking it. HostInterfaces/HostEnv read the host's
// interface list, read-only.
package api
