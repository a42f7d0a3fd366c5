// Package nic owns per-interface NIC tuning on the director: offload features (GRO,
// LRO, hardware GRO, optionally GSO and TSO) from an offload policy, the MTU and the
// link being administratively up. A pass observes the interface, diffs it against the
// policy (Plan, pure), writes only what differs and reads everything back; the Result
// reports per feature what was wanted, what the NIC has and whether the NIC refuses
// to change it ("[fixed]" in ethtool). A refused or fixed feature is a reported
// condition, never a failure of the pass, and one interface's errors never stop the
// others.
//
// The kernel is reached through the small Kernel interface; System implements it with
// github.com/safchain/ethtool (features, by kernel name) and vishvananda/netlink (MTU,
// link state). nictest.Fake is an in-memory Kernel for tests.
//
// It must not add addresses or routes, take a link down, rename or create interfaces,
// or know the config format: callers map their model to Interface (nil policy entries
// leave a feature as the NIC has it; DirectorDefaults fills GRO/LRO/hardware GRO).
package nic
