package build

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/images/initramfs"
)

func TestLayoutFollowsContract(t *testing.T) {
	bb := filepath.Join(t.TempDir(), "bb")
	if err := os.WriteFile(bb, []byte("ELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	tr := initramfs.NewTree()
	err := Layout(tr, Files{Busybox: bb, Commands: []string{"lvsinit", "lvsboxd", "gosh"}, Board: []byte("{}"), Version: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"/init": "bbin/lvsinit", "/bin/sh": "../bbin/gosh", "/sbin/modprobe": "../bbin/modprobe",
		"/bbin/lvsinit": "bb", "/bbin/lvsboxd": "bb", "/bbin/gosh": "bb",
	}
	for p, target := range links {
		e, ok := tr.Get(p)
		if !ok || e.Kind != initramfs.Symlink || e.Target != target {
			t.Errorf("%s = %+v, want a link to %s", p, e, target)
		}
	}
	devs := map[string][2]uint64{"/dev/console": {5, 1}, "/dev/null": {1, 3}}
	for p, mm := range devs {
		e, ok := tr.Get(p)
		if !ok || e.Kind != initramfs.CharDev || e.Major != mm[0] || e.Minor != mm[1] {
			t.Errorf("%s = %+v, want char %d:%d", p, e, mm[0], mm[1])
		}
	}
	for _, d := range []string{"/proc", "/sys", "/run", "/tmp", "/etc/lvsbox", "/var/lib/lvsbox", "/lib/modules"} {
		if e, ok := tr.Get(d); !ok || e.Kind != initramfs.Dir {
			t.Errorf("%s missing or not a directory", d)
		}
	}
	for _, f := range []string{BoardFile, VersionFile, BusyboxPath} {
		if e, ok := tr.Get(f); !ok || e.Kind != initramfs.File {
			t.Errorf("%s missing", f)
		}
	}
	if err := Layout(initramfs.NewTree(), Files{Busybox: bb, Commands: []string{"../x"}}); err == nil {
		t.Error("Layout accepted a command name with a path")
	}
}

// Every board seed must be a valid config document (appliance/config).
func TestBoardSeedsAreValidConfig(t *testing.T) {
	seeds, err := filepath.Glob(filepath.Join("..", "..", "board", "*", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(seeds) == 0 {
		t.Fatal("no board seed found")
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		c, err := config.Decode(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		if len(c.VirtualServices) == 0 {
			t.Errorf("%s: no demo virtual service", s)
		}
	}
}
