// Package board reads and checks the build-side board description
// (board/NAME/board.json) and renders the image-side contract file
// /etc/lvsbox/board.json (see docs/architecture.md).
//
// It owns the board file format and its validation. It must not run host
// tools or touch the network; resolving the kernel and the module closure
// belongs to packages kernel and modules.
package board
