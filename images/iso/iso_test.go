package iso

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
)

func TestGrubConfig(t *testing.T) {
	cfg, err := GrubConfig(Input{Title: "lvsbox (x86_64)", Cmdline: "console=tty0 console=ttyS0,115200n8 panic=10"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"serial --unit=0 --speed=115200", "terminal_input serial console", "terminal_output serial console",
		"linux /boot/vmlinuz console=tty0 console=ttyS0,115200n8 panic=10\n", "initrd /boot/initramfs.cpio.gz",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("grub.cfg lacks %q:\n%s", want, cfg)
		}
	}
	if _, err := GrubConfig(Input{Title: "x", Cmdline: "a; reboot"}); err == nil {
		t.Error("accepted a command line with ';'")
	}
}

func TestMakeStagesTreeForGrubMkrescue(t *testing.T) {
	dir := t.TempDir()
	k, i := filepath.Join(dir, "vmlinuz"), filepath.Join(dir, "initramfs.cpio.gz")
	os.WriteFile(k, []byte("kernel"), 0o644)
	os.WriteFile(i, []byte("initrd"), 0o644)
	var args []string
	run := hostcmd.Func(func(_ context.Context, c hostcmd.Cmd) ([]byte, error) {
		args = c.Args
		stage := c.Args[len(c.Args)-1]
		for _, p := range []string{"boot/vmlinuz", "boot/initramfs.cpio.gz", "boot/grub/grub.cfg"} {
			if _, err := os.Stat(filepath.Join(stage, p)); err != nil {
				t.Errorf("stage lacks %s", p)
			}
		}
		return nil, os.WriteFile(c.Args[1], []byte("ISO"), 0o644)
	})
	dst := filepath.Join(dir, "lvsbox.iso")
	if err := Make(context.Background(), run, Input{Title: "t", Vmlinuz: k, Initramfs: i, Cmdline: "console=ttyS0"}, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "ISO" {
		t.Fatalf("iso = %q", b)
	}
	for _, want := range []string{"--compress=xz", "--fonts=", "--locales=", "--themes="} {
		if !slices.Contains(args, want) {
			t.Errorf("grub-mkrescue args %q lack %s", args, want)
		}
	}
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--install-modules") }) {
		t.Error("--install-modules breaks one platform (platform facts)")
	}
}
