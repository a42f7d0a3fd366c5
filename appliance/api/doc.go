// Package api owns the daemon's HTTP interface. For now: `/` (HTML status page),
// `/api/v1/status` (the same as JSON) and `/healthz` (200 when ready, else 503). It
// renders the engine's status snapshot plus the image's build info
// (/etc/lvsbox/version.json).
//
// It must not touch the kernel or the store directly and must never block the engine:
// it only reads snapshots.
package api
