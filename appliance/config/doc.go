// Package config owns the lvsbox configuration model: the Go types behind the JSON
// document (seed file, store snapshots, later the API), strict decoding (unknown fields
// are errors that name their path), defaults, and validation that reports every problem
// at once, each with a path such as
// `virtual_services[web].real_servers[2].port`.
//
// It must not touch the kernel, the store or the network: it is pure data and rules.
// Turning a config into kernel state is the engine's job; the reference table for every
// field lives in docs/config-reference.md and a test keeps the two in step.
package config
