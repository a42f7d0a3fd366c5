package sysinit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/tools/testenv"
)

// fakeImage writes a file with an ext4-like superblock.
func fakeImage(t *testing.T, path string, magic uint16, label string) {
	t.Helper()
	b := make([]byte, 4096)
	binary.LittleEndian.PutUint16(b[magicOffset:], magic)
	copy(b[labelOffset:labelOffset+16], label)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExt4Label(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "img")
	fakeImage(t, p, 0xEF53, "lvsbox-data")
	f, _ := os.Open(p)
	defer f.Close()
	if l, err := Ext4Label(f); err != nil || l != "lvsbox-data" {
		t.Errorf("got %q %v", l, err)
	}
	full := "0123456789abcdef" // 16 bytes, no NUL
	fakeImage(t, p, 0xEF53, full)
	f2, _ := os.Open(p)
	defer f2.Close()
	if l, err := Ext4Label(f2); err != nil || l != full {
		t.Errorf("16-byte label: %q %v", l, err)
	}
	fakeImage(t, p, 0x1234, "lvsbox-data")
	f3, _ := os.Open(p)
	defer f3.Close()
	if _, err := Ext4Label(f3); !errors.Is(err, ErrNotExt) {
		t.Errorf("bad magic: %v", err)
	}
	if _, err := Ext4Label(bytes.NewReader(make([]byte, 100))); !errors.Is(err, ErrNotExt) {
		t.Errorf("short device: %v", err)
	}
}

func TestExt4LabelRealMkfs(t *testing.T) {
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		for _, p := range []string{"/sbin/mkfs.ext4", "/usr/sbin/mkfs.ext4"} {
			if _, e := os.Stat(p); e == nil {
				mkfs, err = p, nil
			}
		}
	}
	testenv.Need(t, err == nil, "mkfs.ext4 not found")
	p := filepath.Join(t.TempDir(), "data.img")
	if out, err := exec.Command(mkfs, "-q", "-F", "-L", DataLabel, p, "4M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if l, err := Ext4Label(f); err != nil || l != DataLabel {
		t.Errorf("got %q %v", l, err)
	}
}

// fakeSys builds /sys/class/block, /sys/bus/virtio/devices and /dev.
type fakeSys struct {
	t                          *testing.T
	root, block, vio, pci, dev string
}

func newFakeSys(t *testing.T) *fakeSys {
	r := t.TempDir()
	s := &fakeSys{t: t, root: r, block: filepath.Join(r, "sys/class/block"), vio: filepath.Join(r, "sys/bus/virtio/devices"),
		pci: filepath.Join(r, "sys/bus/pci/devices"), dev: filepath.Join(r, "dev")}
	for _, d := range []string{s.block, s.vio, s.pci, s.dev} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *fakeSys) write(p, data string) {
	s.t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *fakeSys) addBlock(name, devnum string, magic uint16, label string, node bool) {
	s.write(filepath.Join(s.block, name, "dev"), devnum+"\n")
	if node {
		fakeImage(s.t, filepath.Join(s.dev, name), magic, label)
	}
}

func (s *fakeSys) finder() DiskFinder {
	return DiskFinder{SysClassBlock: s.block, SysVirtio: s.vio, SysPCI: s.pci, DevDir: s.dev, Label: DataLabel}
}

func TestListBlockDevs(t *testing.T) {
	s := newFakeSys(t)
	s.addBlock("vdb", "254:16", 0, "", false)
	s.addBlock("vda", "254:0", 0, "", false)
	s.addBlock("loop0", "7:0", 0, "", false)
	s.addBlock("sr0", "11:0", 0, "", false)
	s.write(filepath.Join(s.block, "bad", "dev"), "garbage\n")
	got := ListBlockDevs(s.block)
	want := []BlockDev{{"vda", 254, 0}, {"vdb", 254, 16}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}

func TestFindDataDisk(t *testing.T) {
	s := newFakeSys(t)
	s.addBlock("vda", "254:0", 0, "", true)                  // no fs
	s.addBlock("vda1", "254:1", 0xEF53, "other", true)       // wrong label
	s.addBlock("vdb", "254:16", 0xEF53, "lvsbox-data", true) // ours
	node, err := s.finder().Find()
	if err != nil || node != filepath.Join(s.dev, "vdb") {
		t.Fatalf("got %q %v", node, err)
	}
}

func TestFindDataDiskMakesNode(t *testing.T) {
	s := newFakeSys(t)
	s.addBlock("vda", "254:0", 0, "", false)
	f := s.finder()
	var made []string
	f.MakeNode = func(p string, maj, min uint32) error {
		made = append(made, p)
		if maj != 254 || min != 0 {
			t.Errorf("mknod %d:%d", maj, min)
		}
		fakeImage(t, p, 0xEF53, DataLabel)
		return nil
	}
	node, err := f.Find()
	if err != nil || node != filepath.Join(s.dev, "vda") || len(made) != 1 {
		t.Fatalf("got %q %v %v", node, err, made)
	}
}

func TestWaitForVirtioDisk(t *testing.T) {
	s := newFakeSys(t)
	// A virtio block device whose disk is not there yet.
	s.write(filepath.Join(s.vio, "virtio1", "device"), "0x0002\n")
	s.write(filepath.Join(s.vio, "virtio0", "device"), "0x0001\n") // a NIC
	f := s.finder()
	if n := f.PendingVirtioDisks(); n != 1 {
		t.Fatalf("pending = %d", n)
	}
	now := time.Unix(0, 0)
	sleeps := 0
	sleep := func(d time.Duration) {
		now = now.Add(d)
		sleeps++
		if sleeps == 3 { // the disk appears
			s.addBlock("vda", "254:0", 0xEF53, DataLabel, true)
			s.write(filepath.Join(s.vio, "virtio1", "block", "vda", "dev"), "254:0\n")
		}
	}
	node, err := f.Wait(2*time.Second, 50*time.Millisecond, func() time.Time { return now }, sleep)
	if err != nil || node != filepath.Join(s.dev, "vda") || sleeps != 3 {
		t.Fatalf("got %q %v after %d sleeps", node, err, sleeps)
	}
}

func (s *fakeSys) addPCI(name, class, driver string) {
	s.write(filepath.Join(s.pci, name, "class"), class+"\n")
	if driver != "" {
		if err := os.Symlink("../../../bus/pci/drivers/"+driver, filepath.Join(s.pci, name, "driver")); err != nil {
			s.t.Fatal(err)
		}
	}
}

func TestWaitForAHCIDisk(t *testing.T) {
	s := newFakeSys(t)
	s.addPCI("0000:00:1f.2", "0x010601", "ahci")       // SATA controller, bound
	s.addPCI("0000:00:04.0", "0x010000", "virtio-pci") // virtio: handled separately
	s.addPCI("0000:00:02.0", "0x030000", "bochs-drm")  // display
	s.addPCI("0000:00:01.1", "0x010180", "")           // IDE, no driver
	f := s.finder()
	if n := f.BoundStorageControllers(); n != 1 {
		t.Fatalf("controllers = %d", n)
	}
	now := time.Unix(0, 0)
	sleeps := 0
	node, err := f.Wait(2*time.Second, 100*time.Millisecond, func() time.Time { return now }, func(d time.Duration) {
		now = now.Add(d)
		sleeps++
		if sleeps == 5 {
			s.addBlock("sda", "8:0", 0, "", true)
			s.addBlock("sda2", "8:2", 0xEF53, DataLabel, true)
		}
	})
	if err != nil || node != filepath.Join(s.dev, "sda2") || sleeps != 5 {
		t.Fatalf("got %q %v after %d sleeps", node, err, sleeps)
	}
}

func TestWaitGivesUp(t *testing.T) {
	s := newFakeSys(t)
	s.write(filepath.Join(s.vio, "virtio1", "device"), "0x0002\n")
	now := time.Unix(0, 0)
	sleeps := 0
	node, err := s.finder().Wait(2*time.Second, 100*time.Millisecond, func() time.Time { return now },
		func(d time.Duration) { now = now.Add(d); sleeps++ })
	if node != "" || err != nil || sleeps != 20 {
		t.Fatalf("got %q %v after %d sleeps", node, err, sleeps)
	}
	// No disks, no controllers (QEMU without a disk): no waiting at all.
	s3 := newFakeSys(t)
	sleeps = 0
	if node, _ = s3.finder().Wait(2*time.Second, 100*time.Millisecond, func() time.Time { return now },
		func(d time.Duration) { now = now.Add(d); sleeps++ }); node != "" || sleeps != 0 {
		t.Fatalf("waited %d times without any controller", sleeps)
	}
	// Disks present, none labelled, nothing pending: no waiting at all.
	s2 := newFakeSys(t)
	s2.addBlock("vda", "254:0", 0xEF53, "other", true)
	sleeps = 0
	node, _ = s2.finder().Wait(2*time.Second, 100*time.Millisecond, func() time.Time { return now },
		func(d time.Duration) { now = now.Add(d); sleeps++ })
	if node != "" || sleeps != 0 {
		t.Fatalf("waited %d times for nothing", sleeps)
	}
}

type fakeMounter struct{ calls []string }

func (f *fakeMounter) Mount(source, target, fstype string, flags uintptr, data string) error {
	f.calls = append(f.calls, fstype+" "+target)
	return nil
}

func TestMountAllSkipsMounted(t *testing.T) {
	root := t.TempDir()
	ms := []Mount{
		{"proc", filepath.Join(root, "proc"), "proc", 0, "", 0o555},
		{"devtmpfs", filepath.Join(root, "dev"), "devtmpfs", 0, "", 0o755},
		{"tmpfs", filepath.Join(root, "run"), "tmpfs", 0, "", 0o755},
	}
	fm := &fakeMounter{}
	calls := 0
	mounted := func() []string {
		calls++
		if calls == 1 {
			return nil // /proc not mounted yet
		}
		return []string{"/", filepath.Join(root, "dev")} // the kernel mounted devtmpfs
	}
	done, err := MountAll(fm, ms, mounted)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"proc " + filepath.Join(root, "proc"), "tmpfs " + filepath.Join(root, "run")}
	if !reflect.DeepEqual(fm.calls, want) || len(done) != 2 {
		t.Errorf("calls %v done %v", fm.calls, done)
	}
	if st, err := os.Stat(filepath.Join(root, "run")); err != nil || !st.IsDir() {
		t.Error("target not created")
	}
}

const mountinfo = `22 1 0:20 / / rw - rootfs rootfs rw
23 22 0:21 / /proc rw,nosuid - proc proc rw
24 22 0:5 / /dev rw - devtmpfs devtmpfs rw
25 22 0:22 / /sys rw - sysfs sysfs rw
26 24 0:23 / /dev/pts rw - devpts devpts rw
27 22 0:24 / /run rw - tmpfs tmpfs rw
28 22 0:25 / /tmp rw - tmpfs tmpfs rw
29 22 254:16 / /var/lib/lvsbox rw,noatime - ext4 /dev/vdb rw
30 22 0:26 / /with\040space rw - tmpfs tmpfs rw
`

func TestParseMountInfo(t *testing.T) {
	mp, err := MountPoints(strings.NewReader(mountinfo))
	if err != nil || len(mp) != 9 || mp[8] != "/with space" {
		t.Fatalf("mount points %q %v", mp, err)
	}
	ms, err := ParseMountInfo(strings.NewReader(mountinfo))
	if err != nil || ms[7] != (MountInfo{"/var/lib/lvsbox", "ext4", "/dev/vdb"}) {
		t.Fatalf("%+v %v", ms, err)
	}
	got := UnmountOrder(ms, DataDir)
	want := []string{"/var/lib/lvsbox", "/with space", "/tmp", "/run"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unmount order %q, want %q", got, want)
	}
	if got := UnmountOrder(ms[:7], DataDir); !reflect.DeepEqual(got, []string{"/tmp", "/run"}) {
		t.Errorf("without data disk: %q", got)
	}
}

func TestFindSeed(t *testing.T) {
	dir := t.TempDir()
	fw := filepath.Join(dir, "fw", "raw")
	run := filepath.Join(dir, "run", "lvsbox", "seed.json")
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if s, err := FindSeed(fw, run, data); err != nil || s != (Seed{}) {
		t.Errorf("none: %+v %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(data, "seed.json"), []byte(`{"disk":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := FindSeed(fw, run, data); err != nil || s.Path != filepath.Join(data, "seed.json") || s.Source != "data disk" {
		t.Errorf("disk: %+v %v", s, err)
	}
	if err := os.MkdirAll(filepath.Dir(fw), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fw, []byte(`{"fw":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := FindSeed(fw, run, data)
	if err != nil || s.Path != run || s.Source != "fw_cfg" {
		t.Fatalf("fw_cfg: %+v %v", s, err)
	}
	if b, _ := os.ReadFile(run); string(b) != `{"fw":1}` {
		t.Errorf("copied %q", b)
	}
}

func TestParseCmdline(t *testing.T) {
	c := ParseCmdline(`console=ttyS0 panic=-1 quiet lvsinit.debug foo="a b" init=/init` + "\n")
	want := Cmdline{"console": "ttyS0", "panic": "-1", "quiet": "", "lvsinit.debug": "", "foo": "a b", "init": "/init"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %v", c)
	}
	if !c.Has("quiet") || c.Has("loglevel") {
		t.Error("Has wrong")
	}
}

func TestConsoleLoglevel(t *testing.T) {
	if n, err := ConsoleLoglevel("7\t4\t1\t7\n"); err != nil || n != 7 {
		t.Errorf("got %d %v", n, err)
	}
	if _, err := ConsoleLoglevel(""); err == nil {
		t.Error("empty accepted")
	}
}
