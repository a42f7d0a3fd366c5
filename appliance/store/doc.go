// Package store owns the daemon's persistent configuration history: a bbolt file
// (DATA/lvsbox.db) holding numbered revisions, each with its time, a comment and the full
// JSON snapshot of the configuration. It also owns the first-boot seed import.
//
// It must not hold anything that can be rebuilt from the kernel or the config (no
// status, no caches) and must not commit a configuration that fails validation.
package store
