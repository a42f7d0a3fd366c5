// Package testenv holds the test gates every tier shares: skip a test whose
// environment is missing (root, a tool, an image), or fail it instead when
// LVSBOX_REQUIRE_ALL=1 (what `make test` and CI set, so nothing is silently
// skipped there). It must only be imported by tests and test helpers.
package testenv
