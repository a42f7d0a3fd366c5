// Package vrrpd runs VRRP inside lvsboxd from the configuration model: it maps
// vrrp_instances, vrrp_sync_groups, tracked interfaces, tracked services
// (healthd) and vrrp_scripts onto the node package's input, runs one
// node.Manager per unit (a lone instance, or a sync group with its members),
// and on every new revision applies changes live where node can
// (priorities, addresses, routes, interval, tracking: node.Manager.Update)
// and restarts only the units whose change needs it. It gates the virtual addresses
// on the engine's IPVS pass for the running revision, kicks the engine on
// every transition to Master (so the IPVS master sync daemon is in place),
// publishes every transition on the event hub, and serves the status and the
// Prometheus collector of every unit.
//
// It must not speak VRRP, change addresses or IPVS itself (node, vip and the
// engine do), nor read the store other than through its Source.
package vrrpd
