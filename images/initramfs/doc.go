// Package initramfs assembles the image's root file system as a newc cpio
// archive, deterministically: entries sorted by path with parents first,
// mtime 0, uid/gid 0, inode numbers from the sorted position, and gzip with
// an empty header at best compression. The same tree always gives the same
// bytes.
//
// It owns the archive format (via u-root's pkg/cpio). It must not decide
// what goes into the image; package build does.
package initramfs
