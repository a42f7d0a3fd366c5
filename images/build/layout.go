package build

import (
	"fmt"
	"path"

	"github.com/lvsbox/lvsbox/images/initramfs"
)

// Image paths (docs/architecture.md, "Contracts").
const (
	BbinDir     = "/bbin"
	BusyboxPath = "/bbin/bb"
	InitPath    = "/init"
	InitTarget  = "bbin/lvsinit" // bb resolves /init -> /bbin/lvsinit -> bb and runs "lvsinit"
	ShellPath   = "/bin/sh"
	// ModprobePath is where the kernel's request_module() looks
	// (/proc/sys/kernel/modprobe); it runs our init/cmd/modprobe.
	ModprobePath   = "/sbin/modprobe"
	ModprobeTarget = "../bbin/modprobe"
	ShellTarget    = "../bbin/gosh"
	BoardFile      = "/etc/lvsbox/board.json"
	VersionFile    = "/etc/lvsbox/version.json"
	DataDir        = "/var/lib/lvsbox"
	ModulesPrefix  = "/lib/modules"
)

// baseDirs are created empty (mount points and writable places).
var baseDirs = []struct {
	path string
	perm uint64
}{
	{"/bbin", 0o755}, {"/bin", 0o755}, {"/dev", 0o755}, {"/etc/lvsbox", 0o755},
	{"/lib/modules", 0o755}, {"/proc", 0o555}, {"/root", 0o700}, {"/run", 0o755},
	{"/sys", 0o555}, {"/tmp", 0o1777}, {DataDir, 0o755},
}

// Files is the content that goes into the image besides the module tree.
type Files struct {
	Busybox  string   // host path of the bb binary
	Commands []string // names linked into /bbin
	Board    []byte   // /etc/lvsbox/board.json
	Version  []byte   // /etc/lvsbox/version.json
}

// Layout fills t with the image's skeleton, the busybox binary and its
// links, the device nodes the kernel needs before /init runs, and the
// /etc/lvsbox files.
func Layout(t *initramfs.Tree, f Files) error {
	for _, d := range baseDirs {
		if err := t.Dir(d.path, d.perm); err != nil {
			return err
		}
	}
	if err := t.HostFile(BusyboxPath, 0o755, f.Busybox); err != nil {
		return err
	}
	for _, c := range f.Commands {
		if c == "bb" || c == "" || path.Base(c) != c {
			return fmt.Errorf("build: bad command name %q", c)
		}
		if err := t.Symlink(path.Join(BbinDir, c), "bb"); err != nil {
			return err
		}
	}
	steps := []func() error{
		func() error { return t.Symlink(InitPath, InitTarget) },
		func() error { return t.Symlink(ShellPath, ShellTarget) },
		func() error { return t.Symlink(ModprobePath, ModprobeTarget) },
		// The kernel opens /dev/console for PID 1's stdio before devtmpfs
		// is mounted.
		func() error { return t.CharDev("/dev/console", 0o600, 5, 1) },
		func() error { return t.CharDev("/dev/null", 0o666, 1, 3) },
		func() error { return t.File(BoardFile, 0o644, f.Board) },
		func() error { return t.File(VersionFile, 0o644, f.Version) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}
