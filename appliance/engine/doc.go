// Package engine owns the daemon's control loop: it loads the current configuration
// from the store, compiles it (purely) into desired host-network and IPVS state, runs
// the netcfg and ipvs reconcilers, logs `lvsbox: ready` after the first full apply of
// the process, resyncs periodically and on Kick (after a commit), repairing and
// reporting drift, and keeps the status snapshot the API serves. Planner answers dry
// runs: the IPVS writes a configuration would make, read through its own handle.
//
// It must not flush or otherwise tear down kernel state (not even on shutdown), write
// the store, or serve HTTP.
package engine
