// Package iso makes a hybrid BIOS+UEFI bootable ISO from a built image
// (vmlinuz, initramfs.cpio.gz, kernel command line) with grub-mkrescue. GRUB
// talks on the serial line and the screen; the kernel gets the board's
// command line. The same file boots from CD or written to a USB stick/disk.
//
// It owns the GRUB configuration and the grub-mkrescue call. It must not
// install host packages (it names the missing ones) and must not write
// outside the output directory.
package iso
