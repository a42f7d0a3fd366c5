// Package config owns the lvsbox configuration model: the Go types behind the JSON
// document (seed file, store snapshots, API), strict decoding (unknown fields are errors
// that name their path), defaults (WithDefaults makes every one explicit, so consumers
// never apply a default of their own), deep copies (Clone), validation that reports
// every problem at once, each with a path such as
// `virtual_services[web].real_servers[2].port` and a plain sentence, optional checks
// against the running system (ValidateWith an Env of links, schedulers and tunnel
// types), and warnings for legal but risky choices (Warnings).
//
// It must not touch the kernel, the store or the network: it is pure data and rules;
// whatever it needs to know about the running system arrives in an Env. Turning a
// config into kernel state is the engine's job; the reference table for every field
// lives in docs/config-reference.md and a test keeps the two in step.
//
// Files: model*.go (types and defaults' values), duration.go, decode.go, defaults.go
// (WithDefaults, Clone), validate*.go (one file per area), warnings.go, names.go
// (syntax of names), errors.go (FieldError, Errors, paths).
package config
