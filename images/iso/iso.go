package iso

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
)

// Packages are the Debian packages grub-mkrescue needs for both platforms.
var Packages = []string{"grub-common", "grub-pc-bin", "grub-efi-amd64-bin", "xorriso", "mtools"}

// platformDirs must exist for a hybrid BIOS+UEFI image.
var platformDirs = []string{"/usr/lib/grub/i386-pc", "/usr/lib/grub/x86_64-efi"}

// Input is a built image.
type Input struct {
	Title     string // menu entry title
	Vmlinuz   string
	Initramfs string
	Cmdline   string
}

// GrubConfig renders boot/grub/grub.cfg: menu on serial and screen, one
// entry, short timeout.
func GrubConfig(in Input) (string, error) {
	if strings.ContainsAny(in.Cmdline, "\n\"'$;") || strings.ContainsAny(in.Title, "\n\"'$;") {
		return "", fmt.Errorf("iso: title or command line contains characters GRUB would interpret")
	}
	return `serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=3
set default=0
menuentry "` + in.Title + `" {
	linux /boot/vmlinuz ` + in.Cmdline + `
	initrd /boot/initramfs.cpio.gz
}
`, nil
}

// Check reports missing host tools with the packages that provide them.
func Check() error {
	var missing []string
	if _, err := exec.LookPath("grub-mkrescue"); err != nil {
		missing = append(missing, "grub-mkrescue")
	}
	if _, err := exec.LookPath("xorriso"); err != nil {
		missing = append(missing, "xorriso")
	}
	if _, err := exec.LookPath("mformat"); err != nil {
		missing = append(missing, "mformat")
	}
	for _, d := range platformDirs {
		if _, err := os.Stat(d); err != nil {
			missing = append(missing, d)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("iso: missing %s; install with: apt-get install --no-install-recommends %s",
			strings.Join(missing, ", "), strings.Join(Packages, " "))
	}
	return nil
}

// Make writes the ISO to dst, staging its tree in a temporary directory
// next to dst.
func Make(ctx context.Context, run hostcmd.Runner, in Input, dst string) error {
	cfg, err := GrubConfig(in)
	if err != nil {
		return err
	}
	stage, err := os.MkdirTemp(filepath.Dir(dst), ".iso-")
	if err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	defer os.RemoveAll(stage)
	if err := os.MkdirAll(filepath.Join(stage, "boot", "grub"), 0o755); err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	for src, name := range map[string]string{in.Vmlinuz: "vmlinuz", in.Initramfs: "initramfs.cpio.gz"} {
		if err := os.Link(src, filepath.Join(stage, "boot", name)); err != nil {
			data, rerr := os.ReadFile(src)
			if rerr != nil {
				return fmt.Errorf("iso: %w", rerr)
			}
			if werr := os.WriteFile(filepath.Join(stage, "boot", name), data, 0o644); werr != nil {
				return fmt.Errorf("iso: %w", werr)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(stage, "boot", "grub", "grub.cfg"), []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	tmp := dst + ".tmp"
	c := hostcmd.Cmd{Name: "grub-mkrescue", Args: []string{
		"-o", tmp, "--compress=xz", "--fonts=", "--locales=", "--themes=", stage}}
	if _, err := run.Run(ctx, c); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("iso: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	return nil
}
