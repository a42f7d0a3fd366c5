// Package healthtest holds fakes for testing code built on the health checker: a
// manual Clock, deterministic Rand values and a scripted Checker. It must not be
// used by production code.
package healthtest
