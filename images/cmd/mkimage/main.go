// Command mkimage builds a board's boot image:
//
//	go run ./images/cmd/mkimage -board qemu-x86_64 -out out/qemu-x86_64
//
// See docs/images.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lvsbox/lvsbox/images/build"
	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		boardName    = flag.String("board", "qemu-x86_64", "board name (a directory under board/)")
		out          = flag.String("out", "", "output directory (default out/BOARD)")
		cache        = flag.String("cache", "", "download cache (default out/cache)")
		repo         = flag.String("repo", "", "repository root (default: the directory holding go.mod, found upwards)")
		makeISO      = flag.Bool("iso", false, "also write OUT/lvsbox.iso (hybrid BIOS+UEFI, grub-mkrescue)")
		allowMissing = flag.Bool("allow-missing", false, "development only: build without missing required commands (the image will not boot without lvsinit)")
	)
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	root := *repo
	if root == "" {
		var err error
		if root, err = findRepo(); err != nil {
			return err
		}
	}
	if *out == "" {
		*out = filepath.Join(root, "out", *boardName)
	}
	if *cache == "" {
		*cache = filepath.Join(root, "out", "cache")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m, err := build.Build(ctx, build.Options{
		RepoDir: root, Board: *boardName, OutDir: *out, CacheDir: *cache,
		AllowMissing: *allowMissing, ISO: *makeISO, Run: hostcmd.Exec{}, Log: log, Now: time.Now,
	})
	if err != nil {
		return err
	}
	log.Info("image built", "out", *out, "kernel", m.Kernel.Package+"="+m.Kernel.Version,
		"initramfs_raw", m.Initramfs.RawBytes, "initramfs_gzip", m.Initramfs.Bytes,
		"modules", len(m.Modules.Files), "seconds", m.BuildSeconds)
	return nil
}

// findRepo walks up from the working directory to the one holding go.mod.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory; pass -repo")
		}
		dir = parent
	}
}
