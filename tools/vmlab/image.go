package vmlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Module is the Go module path of the repository, used to find its root.
const Module = "github.com/lvsbox/lvsbox"

// DefaultBoard is the board whose image the VM tests boot.
const DefaultBoard = "qemu-x86_64"

// DefaultCmdline is used when the board file names no kernel command line.
const DefaultCmdline = "console=ttyS0 panic=-1"

// Image is what QEMU boots: a kernel, an initramfs and a command line.
type Image struct {
	Kernel  string
	Initrd  string
	Cmdline string
}

// ErrNoImage means the image has not been built (run the image build).
var ErrNoImage = errors.New("image not built")

// RepoRoot finds the repository root: the nearest directory, from the
// working directory upward, whose go.mod declares Module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("vmlab: repo root: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module "+Module+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("vmlab: repo root: no go.mod of %s above the working directory", Module)
		}
		dir = parent
	}
}

// FindImage returns the built image of board under root
// (out/<board>/{vmlinuz,initramfs.cpio.gz}) with the kernel command line it
// was built for: "cmdline" of out/<board>/manifest.json, else of
// board/<board>/board.json, else DefaultCmdline. It wraps ErrNoImage when a
// file is missing.
func FindImage(root, board string) (Image, error) {
	out := filepath.Join(root, "out", board)
	img := Image{
		Kernel: filepath.Join(out, "vmlinuz"),
		Initrd: filepath.Join(out, "initramfs.cpio.gz"),
	}
	for _, p := range []string{img.Kernel, img.Initrd} {
		if _, err := os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return Image{}, fmt.Errorf("vmlab: %s: %w", p, ErrNoImage)
			}
			return Image{}, fmt.Errorf("vmlab: %w", err)
		}
	}
	for _, p := range []string{filepath.Join(out, "manifest.json"), filepath.Join(root, "board", board, "board.json")} {
		cmdline, err := BoardCmdline(p)
		if err != nil {
			return Image{}, err
		}
		if cmdline != "" {
			img.Cmdline = cmdline
			return img, nil
		}
	}
	img.Cmdline = DefaultCmdline
	return img, nil
}

// BoardCmdline reads the "cmdline" field of a JSON file (board file or image
// manifest); a missing file or field gives "".
func BoardCmdline(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("vmlab: %w", err)
	}
	var doc struct {
		Cmdline string `json:"cmdline"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", fmt.Errorf("vmlab: %s: %w", path, err)
	}
	return doc.Cmdline, nil
}
