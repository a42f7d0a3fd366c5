// Package build runs the image build for one board: kernel fetch, module
// closure, busybox binary, initramfs, and the output directory
// (vmlinuz, initramfs.cpio.gz, cmdline, manifest.json).
//
// It owns the image layout (which directories, links, device nodes and
// files the initramfs holds). It must not install anything on the host or
// write outside the output and cache directories.
package build
