package vmlab

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// ExtraInitramfs returns base with its initrd extended by files (guest path ->
// host path): the new initrd, written into dir, is base.Initrd followed by a gzip'd
// newc archive of the files. The kernel unpacks concatenated archives in order, so
// the files are added to the image's (replacing any of the same name) without
// rebuilding it. Host files are read through symlinks and keep their permission
// bits; parent directories are created with mode 0755. It is meant for test-only
// tools (benchmarks, exercisers) that do not belong in the image.
func ExtraInitramfs(base Image, dir string, files map[string]string) (Image, error) {
	out, err := os.CreateTemp(dir, "initrd-extra-*.cpio.gz")
	if err != nil {
		return Image{}, fmt.Errorf("vmlab: extra initramfs: %w", err)
	}
	err = writeExtraInitramfs(out, base.Initrd, files)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return Image{}, fmt.Errorf("vmlab: extra initramfs: %w", err)
	}
	img := base
	img.Initrd = out.Name()
	return img, nil
}

func writeExtraInitramfs(out io.Writer, baseInitrd string, files map[string]string) error {
	in, err := os.Open(baseInitrd)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	in.Close()
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(out)
	w := cpio.NewDedupWriter(cpio.Newc.Writer(gz))
	names := make([]string, 0, len(files))
	for g := range files {
		names = append(names, g)
	}
	slices.Sort(names)
	for _, g := range names {
		name := strings.TrimPrefix(path.Clean("/"+g), "/")
		if name == "" {
			return fmt.Errorf("guest path %q names no file", g)
		}
		var dirs []string
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			dirs = append(dirs, d)
		}
		slices.Reverse(dirs)
		for _, d := range dirs {
			if err := w.WriteRecord(cpio.Directory(d, 0o755)); err != nil {
				return err
			}
		}
		host := files[g]
		data, err := os.ReadFile(host)
		if err != nil {
			return err
		}
		st, err := os.Stat(host)
		if err != nil {
			return err
		}
		rec := cpio.StaticRecord(data, cpio.Info{Name: name, Mode: cpio.S_IFREG | uint64(st.Mode().Perm())})
		if err := w.WriteRecord(rec); err != nil {
			return fmt.Errorf("%s: %w", g, err)
		}
	}
	if err := cpio.WriteTrailer(w); err != nil {
		return err
	}
	return gz.Close()
}

// SharedLibraries returns the shared libraries and the dynamic loader that host
// binary bin needs (from ldd), each mapped to itself (guest path = host path), for
// ExtraInitramfs.
func SharedLibraries(ctx context.Context, bin string) (map[string]string, error) {
	out, err := exec.CommandContext(ctx, "ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("vmlab: ldd %s: %w", bin, err)
	}
	libs := map[string]string{}
	for _, p := range parseLdd(string(out)) {
		libs[p] = p
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("vmlab: ldd %s: no libraries (a static binary needs none: copy it alone)", bin)
	}
	return libs, nil
}

// parseLdd extracts the absolute library paths from ldd output: "name => /path
// (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vDSO has no file.
func parseLdd(out string) []string {
	var paths []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if _, after, ok := strings.Cut(line, "=>"); ok {
			line = strings.TrimSpace(after)
		}
		f := strings.Fields(line)
		if len(f) > 0 && filepath.IsAbs(f[0]) {
			paths = append(paths, f[0])
		}
	}
	return paths
}
