// Package store owns the daemon's persistent configuration history: a bbolt file
// (DATA/lvsbox.db) holding numbered revisions, each with its time, user, comment and
// the full snapshot of the configuration. It owns optimistic concurrency (every change
// names the revision it was based on), commit-confirmed changes that roll back by
// themselves, rollback, structural diffs between revisions, JSON export/import, the
// on-disk format version and its migrations, and the first-boot seed import.
//
// It must not hold anything that can be rebuilt from the kernel or the config (no
// status, no caches on disk), must not commit a configuration that fails validation,
// and must not decide when to expire a pending change (the daemon calls ExpirePending
// from its own timer). The layout is documented in docs/store.md.
package store
