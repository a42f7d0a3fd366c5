// Package service owns the service-level consequences of health: from the health
// and weights of a virtual service's real servers it computes (purely) each real
// server's desired presence and weight (on_failure remove or quiesce, misc_dynamic
// weights), whether the sorry server is active, the quorum state with keepalived's
// hysteresis, and its output for VRRP (a priority delta or a fault flag).
//
// It must not talk to IPVS or VRRP, run checks or keep time; the caller keeps the
// previous State and feeds it back.
package service
