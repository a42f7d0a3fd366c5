package ipvs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadFeatures(t *testing.T) {
	root := t.TempDir()
	ipvsDir := "lib/modules/6.1.0-28-amd64/kernel/net/netfilter/ipvs/"
	writeTree(t, root, map[string]string{
		"proc/modules":                               "ip_vs_wlc 12288 1 - Live 0x0\nip_vs 192512 5 ip_vs_wlc, Live 0x0\n",
		ipvsDir + "ip_vs.ko":                         "",
		ipvsDir + "ip_vs_rr.ko":                      "",
		ipvsDir + "ip_vs_mh.ko.xz":                   "",
		ipvsDir + "ip_vs_ftp.ko":                     "",
		ipvsDir + "ip_vs_pe_sip.ko":                  "",
		"lib/modules/6.1.0-28-amd64/modules.builtin": "kernel/net/netfilter/ipvs/ip_vs_sh.ko\n",
	})
	f := ReadFeatures(root, root, "6.1.0-28-amd64")
	if !f.Present || !slices.Equal(f.Schedulers, []string{"mh", "rr", "sh", "wlc"}) {
		t.Fatalf("features = %+v", f)
	}
	if !slices.Equal(f.TunnelTypes, []TunnelType{TunnelIPIP, TunnelGUE, TunnelGRE}) {
		t.Fatalf("tunnels = %v", f.TunnelTypes)
	}
	old := ReadFeatures(root, root, "4.19.0-1-amd64")
	if !old.Present || len(old.Schedulers) != 1 || !slices.Equal(old.TunnelTypes, []TunnelType{TunnelIPIP}) {
		t.Fatalf("4.19 (only the loaded wlc visible) = %+v", old)
	}
	if f := ReadFeatures(t.TempDir(), t.TempDir(), "6.1.0"); f.Present || f.Schedulers != nil {
		t.Fatalf("no IPVS = %+v", f)
	}
	if !kernelAtLeast("5.2.0", 5, 2) || kernelAtLeast("5.1.21", 5, 2) || !kernelAtLeast("6.0", 5, 3) || kernelAtLeast("x", 1, 0) {
		t.Fatal("kernelAtLeast")
	}
}
