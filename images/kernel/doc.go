// Package kernel fetches a Debian kernel package for the image: it resolves
// the board's package (the linux-image-amd64 metapackage or a pinned
// linux-image-<abi>-amd64 and version) with apt-cache, downloads the .deb
// with `apt-get download` into the build cache, unpacks it with
// `dpkg-deb -x` and runs depmod on the unpacked tree.
//
// It owns the cache layout under CACHE/ (debs/, kernel-PKG_VER/). It must not
// install anything on the host (no dpkg -i, no apt-get install) and must not
// write outside the cache directory.
package kernel
