package modules

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/tools/testenv"

	"github.com/lvsbox/lvsbox/images/internal/hostcmd"
)

const md = "/x/lib/modules/6.1.0-56-amd64"

func TestParseShowDepends(t *testing.T) {
	out := "insmod " + md + "/kernel/arch/x86/crypto/crc32c-intel.ko \n" +
		"insmod " + md + "/kernel/drivers/net/bonding/bonding.ko max_bonds=0 \n" +
		"builtin unix\n" +
		"insmod " + md + "/kernel/drivers/usb/storage/usb-storage.ko.xz\n"
	deps, err := ParseShowDepends([]byte(out), md)
	if err != nil {
		t.Fatal(err)
	}
	want := []Dep{
		{Name: "crc32c_intel", Path: "kernel/arch/x86/crypto/crc32c-intel.ko"},
		{Name: "bonding", Path: "kernel/drivers/net/bonding/bonding.ko"},
		{Name: "unix", Builtin: true},
		{Name: "usb_storage", Path: "kernel/drivers/usb/storage/usb-storage.ko.xz"},
	}
	if !slices.Equal(deps, want) {
		t.Fatalf("deps = %+v\nwant %+v", deps, want)
	}
	if _, err := ParseShowDepends([]byte("insmod /elsewhere/a.ko\n"), md); err == nil {
		t.Fatal("accepted a module outside the modules directory")
	}
	if _, err := ParseShowDepends([]byte("install /bin/true\n"), md); err == nil {
		t.Fatal("accepted an install command")
	}
}

func TestStagedPathAndName(t *testing.T) {
	for in, want := range map[string]string{"a/b-c.ko": "a/b-c.ko", "a/b.ko.xz": "a/b.ko", "a/b.ko.zst": "a/b.ko", "a/b.ko.gz": "a/b.ko"} {
		if got := StagedPath(in); got != want {
			t.Errorf("StagedPath(%q) = %q, want %q", in, got, want)
		}
	}
	if got := NameFromPath("k/usb-storage.ko.zst"); got != "usb_storage" {
		t.Errorf("NameFromPath = %q", got)
	}
}

func d(p string) Dep { return Dep{Name: NameFromPath(p), Path: p} }

func TestMakePlan(t *testing.T) {
	closure := map[string][]Dep{
		"ip_vs":        {d("kernel/arch/x86/crypto/crc32c-intel.ko"), d("kernel/crypto/crc32c_generic.ko"), d("kernel/lib/libcrc32c.ko"), d("kernel/net/netfilter/nf_conntrack.ko"), d("kernel/net/netfilter/ipvs/ip_vs.ko")},
		"ip_vs_rr":     {d("kernel/arch/x86/crypto/crc32c-intel.ko"), d("kernel/crypto/crc32c_generic.ko"), d("kernel/lib/libcrc32c.ko"), d("kernel/net/netfilter/nf_conntrack.ko"), d("kernel/net/netfilter/ipvs/ip_vs.ko"), d("kernel/net/netfilter/ipvs/ip_vs_rr.ko")},
		"unix":         {{Name: "unix", Builtin: true}},
		"e1000e":       {d("kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko")},
		"mlx5_core":    {d("kernel/net/psample/psample.ko"), d("kernel/drivers/net/mlx5_core.ko")},
		"nf_conntrack": {d("kernel/arch/x86/crypto/crc32c-intel.ko"), d("kernel/crypto/crc32c_generic.ko"), d("kernel/lib/libcrc32c.ko"), d("kernel/net/netfilter/nf_conntrack.ko")},
	}
	p, err := MakePlan([]string{"ip_vs", "ip_vs_rr", "unix", "nf_conntrack"}, []string{"e1000e", "mlx5_core"}, closure)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"crc32c_generic", "libcrc32c", "nf_conntrack", "ip_vs", "ip_vs_rr"}; !slices.Equal(p.Modules, want) {
		t.Errorf("Modules = %v, want %v", p.Modules, want)
	}
	if want := []string{"crc32c_intel", "e1000e", "psample", "mlx5_core"}; !slices.Equal(p.Optional, want) {
		t.Errorf("Optional = %v, want %v", p.Optional, want)
	}
	if want := []string{"unix"}; !slices.Equal(p.Builtin, want) {
		t.Errorf("Builtin = %v, want %v", p.Builtin, want)
	}
	if len(p.Files) != 9 || !slices.IsSorted(p.Files) {
		t.Errorf("Files = %v, want 9 sorted paths", p.Files)
	}

	// A CPU-specific module the board names itself stays required.
	closure["crc32c_intel"] = []Dep{d("kernel/arch/x86/crypto/crc32c-intel.ko")}
	p, err = MakePlan([]string{"ip_vs", "crc32c-intel"}, nil, closure)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.Modules, "crc32c_intel") || slices.Contains(p.Optional, "crc32c_intel") {
		t.Errorf("named crc32c_intel: Modules %v Optional %v", p.Modules, p.Optional)
	}

	if _, err := MakePlan([]string{"nosuch"}, nil, closure); err == nil {
		t.Error("MakePlan accepted a module without a closure")
	}
}

func TestWriteOrderKeepsStagedInKernelOrder(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("kernel/b.ko\nkernel/a.ko\nkernel/c.ko\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst")
	if err := writeOrder(src, dst, map[string]bool{"kernel/a.ko": true, "kernel/b.ko": true}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst)
	if string(got) != "kernel/b.ko\nkernel/a.ko\n" {
		t.Fatalf("modules.order = %q", got)
	}
	if err := writeOrder(src, dst, map[string]bool{"kernel/z.ko": true}); err == nil {
		t.Fatal("writeOrder accepted a staged module missing from modules.order")
	}
}

// kernelTree makes a fake unpacked kernel with two modules, one gzipped.
func kernelTree(t *testing.T) (root, release string) {
	t.Helper()
	root, release = t.TempDir(), "6.1.0-test"
	md := filepath.Join(root, "lib", "modules", release)
	write := func(rel string, data []byte) {
		p := filepath.Join(md, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("module b"))
	zw.Close()
	write("kernel/a.ko", []byte("module a"))
	write("kernel/b.ko.gz", gz.Bytes())
	write("kernel/unused.ko", []byte("unused"))
	write("modules.order", []byte("kernel/unused.ko\nkernel/b.ko\nkernel/a.ko\n"))
	write("modules.builtin", []byte("kernel/unix.ko\n"))
	write("modules.builtin.modinfo", []byte("unix.license=GPL\x00"))
	return root, release
}

func TestStageWithFakeDepmod(t *testing.T) {
	root, release := kernelTree(t)
	stage := t.TempDir()
	var ran []string
	run := hostcmd.Func(func(_ context.Context, c hostcmd.Cmd) ([]byte, error) {
		ran = append(ran, c.String())
		dst := filepath.Join(stage, "lib", "modules", release)
		for _, f := range []string{"modules.dep", "modules.alias", "modules.softdep", "modules.dep.bin"} {
			if err := os.WriteFile(filepath.Join(dst, f), nil, 0o644); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	s := Stager{Run: run, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	p := Plan{Files: []string{"kernel/a.ko", "kernel/b.ko.gz"}}
	if err := s.Stage(context.Background(), filepath.Join(root, "lib", "modules", release), stage, release, p); err != nil {
		t.Fatal(err)
	}
	if want := "depmod -C /dev/null -b " + stage + " " + release; len(ran) != 1 || ran[0] != want {
		t.Fatalf("ran %q, want %q", ran, want)
	}
	dst := filepath.Join(stage, "lib", "modules", release)
	if b, _ := os.ReadFile(filepath.Join(dst, "kernel", "b.ko")); string(b) != "module b" {
		t.Errorf("b.ko = %q, want the decompressed module", b)
	}
	if o, _ := os.ReadFile(filepath.Join(dst, "modules.order")); string(o) != "kernel/b.ko\nkernel/a.ko\n" {
		t.Errorf("modules.order = %q", o)
	}
	if _, err := os.Stat(filepath.Join(dst, "modules.dep.bin")); !os.IsNotExist(err) {
		t.Errorf("modules.dep.bin still there (err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "kernel", "unused.ko")); !os.IsNotExist(err) {
		t.Errorf("unplanned module staged (err %v)", err)
	}
}

// With the host's real depmod, the staged tree gets the text indexes.
func TestStageWithRealDepmod(t *testing.T) {
	testenv.NeedTools(t, "depmod") // package kmod
	root, release := kernelTree(t)
	stage := t.TempDir()
	s := Stager{Run: hostcmd.Exec{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	p := Plan{Files: []string{"kernel/a.ko", "kernel/b.ko.gz"}}
	err := s.Stage(context.Background(), filepath.Join(root, "lib", "modules", release), stage, release, p)
	if err != nil {
		t.Fatal(err)
	}
	dep, err := os.ReadFile(filepath.Join(stage, "lib", "modules", release, "modules.dep"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dep), "kernel/a.ko:") || !strings.Contains(string(dep), "kernel/b.ko:") {
		t.Fatalf("modules.dep = %q", dep)
	}
}
