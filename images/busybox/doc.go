// Package busybox builds the image's one busybox-mode binary (/bbin/bb) with
// u-root's gobusybox makebb: our commands (lvsinit, lvsboxd, lvsbox) and
// the u-root rescue tools, CGO off, GOAMD64=v1, stripped and -trimpath
// (makebb's defaults) so the binary is reproducible.
//
// It owns the command list and the check that our command packages exist.
// It must not write anything but the output binary.
package busybox
