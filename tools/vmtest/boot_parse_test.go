package vmtest

import "testing"

func TestLoadedModulesParsesProcModules(t *testing.T) {
	out := "ip_vs_wrr 16384 1 - Live 0x0000000000000000\n" +
		"[    3.100000] lvsboxd: something logged meanwhile\n" +
		"ip_vs 196608 3 ip_vs_wrr,ip_vs_rr, Live 0x0000000000000000\n" +
		"nf_conntrack 188416 1 ip_vs, Loading 0x0\n"
	got := loadedModules(out)
	if len(got) != 3 || !got["ip_vs"] || !got["ip_vs_wrr"] || !got["nf_conntrack"] || got["lvsboxd:"] {
		t.Fatalf("loadedModules = %v", got)
	}
}

func TestBuiltinModules(t *testing.T) {
	got := builtinModules("kernel/drivers/virtio/virtio.ko\nkernel/crypto/crc32c_generic.ko\nkernel/fs/ext4/ext4.ko\nkernel/drivers/foo/bar-baz.ko\n$ ")
	for _, m := range []string{"virtio", "crc32c_generic", "ext4", "bar_baz"} {
		if !got[m] {
			t.Errorf("missing %s in %v", m, got)
		}
	}
	if len(got) != 4 {
		t.Errorf("got %v", got)
	}
}
