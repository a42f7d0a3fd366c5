package modules

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/lvsbox/lvsbox/images/board"
	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
)

// Stager resolves closures with modprobe and stages them with depmod.
type Stager struct {
	Run hostcmd.Runner
	Log *slog.Logger
}

// Resolve asks modprobe for the closure of every board module in the
// unpacked kernel at root (which must have been depmod'ed) and plans the
// image lists.
func (s Stager) Resolve(ctx context.Context, root, release string, required, optional []string) (Plan, error) {
	modulesDir := filepath.Join(root, "lib", "modules", release)
	closure := map[string][]Dep{}
	for _, m := range append(append([]string{}, required...), optional...) {
		out, err := s.Run.Run(ctx, hostcmd.Cmd{Name: "modprobe", Args: []string{
			"-C", "/dev/null", "-d", root, "-S", release, "--show-depends", m}})
		if err != nil {
			return Plan{}, fmt.Errorf("modules: resolve %s in %s: %w", m, release, err)
		}
		deps, err := ParseShowDepends(out, modulesDir)
		if err != nil {
			return Plan{}, fmt.Errorf("modules: resolve %s: %w", m, err)
		}
		if len(deps) == 0 {
			return Plan{}, fmt.Errorf("modules: resolve %s: modprobe printed nothing", m)
		}
		closure[board.CanonicalModule(m)] = deps
	}
	return MakePlan(required, optional, closure)
}

// indexFiles are copied verbatim from the kernel package; depmod reads them.
var indexFiles = []string{"modules.builtin", "modules.builtin.modinfo"}

// Stage copies the planned module files from srcDir (/lib/modules/RELEASE of
// the unpacked kernel) to stageRoot/lib/modules/RELEASE, writes a
// modules.order restricted to them, and runs depmod there. The binary
// indexes (*.bin) are removed: nothing in the image reads them (there is no
// kmod), the text files are the contract.
func (s Stager) Stage(ctx context.Context, srcDir, stageRoot, release string, p Plan) error {
	dst := filepath.Join(stageRoot, "lib", "modules", release)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("modules: stage: %w", err)
	}
	staged := map[string]bool{}
	for _, f := range p.Files {
		out := StagedPath(f)
		if err := copyModule(ctx, s.Run, filepath.Join(srcDir, f), filepath.Join(dst, out)); err != nil {
			return fmt.Errorf("modules: stage %s: %w", f, err)
		}
		staged[out] = true
	}
	if err := writeOrder(filepath.Join(srcDir, "modules.order"), filepath.Join(dst, "modules.order"), staged); err != nil {
		return err
	}
	for _, f := range indexFiles {
		if err := copyFile(filepath.Join(srcDir, f), filepath.Join(dst, f)); err != nil {
			return fmt.Errorf("modules: stage: %w", err)
		}
	}
	if _, err := s.Run.Run(ctx, hostcmd.Cmd{Name: "depmod", Args: []string{"-C", "/dev/null", "-b", stageRoot, release}}); err != nil {
		return fmt.Errorf("modules: depmod on stage: %w", err)
	}
	bins, err := filepath.Glob(filepath.Join(dst, "*.bin"))
	if err != nil {
		return fmt.Errorf("modules: %w", err)
	}
	for _, b := range bins {
		if err := os.Remove(b); err != nil {
			return fmt.Errorf("modules: %w", err)
		}
	}
	for _, f := range []string{"modules.dep", "modules.alias", "modules.softdep", "modules.builtin", "modules.order"} {
		if _, err := os.Stat(filepath.Join(dst, f)); err != nil {
			return fmt.Errorf("modules: depmod left no %s: %w", f, err)
		}
	}
	return nil
}

// writeOrder copies the lines of modules.order whose module is staged.
func writeOrder(src, dst string, staged map[string]bool) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("modules: %w", err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		line := StagedPath(strings.TrimSpace(sc.Text()))
		if staged[line] {
			out.WriteString(line + "\n")
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("modules: %s: %w", src, err)
	}
	if n != len(staged) {
		return fmt.Errorf("modules: modules.order lists %d of the %d staged modules", n, len(staged))
	}
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("modules: %w", err)
	}
	return nil
}

// copyModule copies one module file, decompressing it when needed. xz and
// zstd are decompressed by the host tools (Go's standard library has
// neither).
func copyModule(ctx context.Context, run hostcmd.Runner, src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(src, ".ko.xz"):
		return decompressWith(ctx, run, "xz", src, dst)
	case strings.HasSuffix(src, ".ko.zst"):
		return decompressWith(ctx, run, "zstd", src, dst)
	case strings.HasSuffix(src, ".ko.gz"):
		in, err := os.Open(src)
		if err != nil {
			return err
		}
		defer in.Close()
		zr, err := gzip.NewReader(in)
		if err != nil {
			return err
		}
		return writeFrom(dst, zr)
	default:
		return copyFile(src, dst)
	}
}

func decompressWith(ctx context.Context, run hostcmd.Runner, tool, src, dst string) error {
	out, err := run.Run(ctx, hostcmd.Cmd{Name: tool, Args: []string{"-dc", src}})
	if err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	return writeFrom(dst, bytes.NewReader(out))
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeFrom(dst, in)
}

func writeFrom(dst string, r io.Reader) error {
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
