// Package manifest defines the build's output records: out/BOARD/manifest.json
// (what was built from what, sizes, checksums, timing) and the image's
// /etc/lvsbox/version.json (the contract in docs/architecture.md).
//
// It owns those formats only; it must not compute anything.
package manifest
