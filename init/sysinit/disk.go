package sysinit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// DataLabel is the ext4 volume label of the data disk.
const DataLabel = "lvsbox-data"

// DataDir is where the data disk is mounted.
const DataDir = "/var/lib/lvsbox"

// ext4 superblock layout (fs/ext4/ext4.h): the superblock starts at byte
// 1024; s_magic at +56, s_volume_name[16] at +120.
const (
	sbOffset    = 1024
	magicOffset = sbOffset + 56
	labelOffset = sbOffset + 120
	ext4Magic   = 0xEF53
)

// ErrNotExt is returned for a block device without an ext2/3/4 superblock.
var ErrNotExt = errors.New("no ext2/3/4 superblock")

// Ext4Label reads the volume label of an ext2/3/4 filesystem.
func Ext4Label(r io.ReaderAt) (string, error) {
	buf := make([]byte, labelOffset+16)
	if _, err := r.ReadAt(buf, 0); err != nil {
		if errors.Is(err, io.EOF) {
			return "", ErrNotExt
		}
		return "", err
	}
	if binary.LittleEndian.Uint16(buf[magicOffset:]) != ext4Magic {
		return "", ErrNotExt
	}
	label := buf[labelOffset : labelOffset+16]
	if i := strings.IndexByte(string(label), 0); i >= 0 {
		label = label[:i]
	}
	return string(label), nil
}

// BlockDev is a disk or partition from /sys/class/block.
type BlockDev struct {
	Name         string // "vda1"
	Major, Minor uint32
}

// skipBlock are device name prefixes that never hold the data disk.
var skipBlock = []string{"loop", "ram", "zram", "sr", "fd", "nbd", "dm-", "md"}

// ListBlockDevs reads sysClassBlock (/sys/class/block) and returns disks and
// partitions, sorted by name.
func ListBlockDevs(sysClassBlock string) []BlockDev {
	entries, err := os.ReadDir(sysClassBlock)
	if err != nil {
		return nil
	}
	var out []BlockDev
next:
	for _, e := range entries {
		for _, p := range skipBlock {
			if strings.HasPrefix(e.Name(), p) {
				continue next
			}
		}
		b, err := os.ReadFile(filepath.Join(sysClassBlock, e.Name(), "dev"))
		if err != nil {
			continue
		}
		maj, min, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
		ma, err1 := strconv.ParseUint(maj, 10, 32)
		mi, err2 := strconv.ParseUint(min, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		out = append(out, BlockDev{Name: e.Name(), Major: uint32(ma), Minor: uint32(mi)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DiskFinder looks for the data disk. Paths are parameters for tests.
type DiskFinder struct {
	SysClassBlock string // /sys/class/block
	SysVirtio     string // /sys/bus/virtio/devices
	SysPCI        string // /sys/bus/pci/devices
	DevDir        string // /dev
	Label         string
	// MakeNode creates a missing device node; nil means mknod(2).
	MakeNode func(path string, major, minor uint32) error
}

// DefaultDiskFinder uses the live system paths.
func DefaultDiskFinder() DiskFinder {
	return DiskFinder{SysClassBlock: "/sys/class/block", SysVirtio: "/sys/bus/virtio/devices",
		SysPCI: "/sys/bus/pci/devices", DevDir: "/dev", Label: DataLabel}
}

// Find returns the device node of the first disk or partition whose ext4
// label matches, or "" when there is none.
func (d DiskFinder) Find() (string, error) {
	var errs []error
	for _, b := range ListBlockDevs(d.SysClassBlock) {
		node := filepath.Join(d.DevDir, b.Name)
		if _, err := os.Stat(node); errors.Is(err, os.ErrNotExist) {
			mk := d.MakeNode
			if mk == nil {
				mk = mknodBlock
			}
			if err := mk(node, b.Major, b.Minor); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", node, err))
				continue
			}
		}
		f, err := os.Open(node)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		label, err := Ext4Label(f)
		f.Close()
		if err == nil && label == d.Label {
			return node, nil
		}
		if err != nil && !errors.Is(err, ErrNotExt) {
			errs = append(errs, fmt.Errorf("%s: %w", node, err))
		}
	}
	return "", errors.Join(errs...)
}

// PendingVirtioDisks counts virtio block devices (device id 0x0002) that
// have no block device yet: their driver is still probing, or not loaded.
func (d DiskFinder) PendingVirtioDisks() int {
	entries, err := os.ReadDir(d.SysVirtio)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		dev := filepath.Join(d.SysVirtio, e.Name())
		id, err := os.ReadFile(filepath.Join(dev, "device"))
		if err != nil || strings.TrimSpace(string(id)) != "0x0002" {
			continue
		}
		if blocks, err := os.ReadDir(filepath.Join(dev, "block")); err == nil && len(blocks) > 0 {
			continue
		}
		n++
	}
	return n
}

// BoundStorageControllers counts PCI mass-storage controllers (class 0x01)
// with a driver bound, other than virtio (PendingVirtioDisks covers those).
// Disks behind them (AHCI, NVMe) are probed asynchronously.
func (d DiskFinder) BoundStorageControllers() int {
	entries, err := os.ReadDir(d.SysPCI)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		dev := filepath.Join(d.SysPCI, e.Name())
		class, err := os.ReadFile(filepath.Join(dev, "class"))
		if err != nil || !strings.HasPrefix(strings.TrimSpace(string(class)), "0x01") {
			continue
		}
		drv, err := os.Readlink(filepath.Join(dev, "driver"))
		if err != nil || filepath.Base(drv) == "virtio-pci" {
			continue
		}
		n++
	}
	return n
}

// Wait polls Find until a labelled disk shows up or timeout passes. It keeps
// waiting only while it is worth it: while a virtio disk is still appearing,
// or while there is no disk at all but a bound storage controller (AHCI and
// NVMe disks show up asynchronously). sleep is injectable.
func (d DiskFinder) Wait(timeout, step time.Duration, now func() time.Time, sleep func(time.Duration)) (string, error) {
	deadline := now().Add(timeout)
	for {
		node, err := d.Find()
		if node != "" {
			return node, nil
		}
		worth := d.PendingVirtioDisks() > 0 ||
			(len(ListBlockDevs(d.SysClassBlock)) == 0 && d.BoundStorageControllers() > 0)
		if !worth || !now().Before(deadline) {
			return "", err
		}
		sleep(step)
	}
}

func mknodBlock(path string, major, minor uint32) error {
	return unix.Mknod(path, unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor)))
}

// MountData mounts the ext4 data disk on dir (created if needed).
func MountData(m Mounter, node, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data disk: mkdir %s: %w", dir, err)
	}
	if err := m.Mount(node, dir, "ext4", unix.MS_NOATIME|unix.MS_NODEV|unix.MS_NOSUID, ""); err != nil {
		return fmt.Errorf("data disk: mount %s on %s: %w", node, dir, err)
	}
	return nil
}
