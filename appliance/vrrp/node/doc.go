// Package node runs VRRP instances on the host: the per-instance protocol
// goroutine (one per instance, or one per sync group so its members move
// together), the group manager that owns the sockets (vrnet), the link and
// address watcher (netlink), the address workers (vip), tracking inputs
// (interface state and weights, external priority deltas and faults from
// health checks and scripts), live configuration updates
// and the observable side: snapshots, transition history, events and
// Prometheus collectors.
//
// The protocol goroutine only ever waits on its own timer and its own
// channels: received adverts come from a socket reader through a buffered
// channel, link facts, priority deltas, faults and config updates through
// latest-wins mailboxes, and
// address changes leave through the vip.Worker mailbox, so netlink, config
// applies and health checks can never delay an advert.
//
// It must not decode or check packets itself beyond the per-instance checks
// (vrrp.Config.CheckDecoded), change addresses directly, or know the
// appliance config model: InstanceConfig is its own input, fed by a mapping.
package node
