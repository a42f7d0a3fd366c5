// Package importer holds what the configuration importers share: the Note every
// importer returns for each keyword or option it could not map (and for every other
// explanation), deterministic naming of imported objects, the interface list an
// import builds up, and Finish, which validates an imported configuration and turns
// each validation error and warning into a note that points back into the source.
//
// The importers themselves live in the sub-packages keepalived (keepalived.conf and
// its include files) and ipvsadm (`ipvsadm -S` / `-Sn` output and ipvsadm command
// scripts). They are pure: they read the files they are given and never resolve
// names, touch the network, the kernel or the store. What to do with the result
// (print it, validate it, apply it) is the caller's business (the `lvsbox import`
// command).
package importer
