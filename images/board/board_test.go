package board

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const valid = `{
  "board": "demo",
  "hostname": "lvsbox",
  "console": "ttyS0",
  "cmdline": "console=ttyS0,115200 panic=-1",
  "modules": ["ip_vs", "usb-storage"],
  "optional_modules": ["e1000e"],
  "module_options": {"ip_vs": "conn_tab_bits=12"}
}`

func TestParseValidFillsDefaultKernel(t *testing.T) {
	b, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if b.Kernel.Package != DefaultKernelPackage || b.Kernel.Version != "" {
		t.Fatalf("kernel = %+v, want the metapackage unpinned", b.Kernel)
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]struct{ edit, want string }{
		"unknown field":        {`"hostname": "lvsbox",`, `"hostname": "lvsbox", "colour": "red",`},
		"bad hostname":         {`"hostname": "lvsbox"`, `"hostname": "lvs box"`},
		"console with /dev":    {`"console": "ttyS0"`, `"console": "/dev/ttyS0"`},
		"cmdline sans console": {`"cmdline": "console=ttyS0,115200 panic=-1"`, `"cmdline": "panic=-1"`},
		"module twice":         {`"optional_modules": ["e1000e"]`, `"optional_modules": ["usb_storage"]`},
		"bad module name":      {`"ip_vs", `, `"ip vs", `},
		"no modules":           {`"modules": ["ip_vs", "usb-storage"]`, `"modules": []`},
		"options for unlisted": {`{"ip_vs": "conn_tab_bits=12"}`, `{"bonding": "max_bonds=0"}`},
		"bad options":          {`{"ip_vs": "conn_tab_bits=12"}`, `{"ip_vs": "conn tab"}`},
		"bad pinned version":   {`"hostname": "lvsbox",`, `"hostname": "lvsbox", "kernel": {"package": "linux-image-6.1.0-56-amd64", "version": "6.1 2"},`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			doc := strings.Replace(valid, c.edit, c.want, 1)
			if doc == valid {
				t.Fatalf("edit %q did not apply", c.edit)
			}
			if _, err := Parse([]byte(doc)); err == nil {
				t.Fatalf("Parse accepted %s", doc)
			}
		})
	}
}

func TestLoadNameMustMatchDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "other")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "does not match directory") {
		t.Fatalf("Load = %v, want a directory mismatch error", err)
	}
}

func TestImageFileHasExactlyTheContractFields(t *testing.T) {
	b, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.ImageFile([]string{"crc32c_generic", "ip_vs"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"board", "console", "hostname", "module_options", "modules", "optional_modules"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	if opt, ok := m["optional_modules"].([]any); !ok || len(opt) != 0 {
		t.Fatalf("optional_modules = %#v, want an empty list (not null)", m["optional_modules"])
	}
}

// The repository's boards must load and carry what the appliance needs.
func TestRepositoryBoards(t *testing.T) {
	schedulers := []string{"ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc", "ip_vs_lblcr",
		"ip_vs_dh", "ip_vs_sh", "ip_vs_mh", "ip_vs_sed", "ip_vs_nq", "ip_vs_fo", "ip_vs_ovf"}
	common := append([]string{"ip_vs", "nf_conntrack", "ipip", "8021q", "bonding", "macvlan", "dummy",
		"veth", "button", "evdev", "ext4", "vfat"}, schedulers...)
	extra := map[string][]string{
		"qemu-x86_64": {"virtio_pci", "virtio_net", "virtio_blk", "e1000", "qemu_fw_cfg"},
		"x86_64": {"e1000e", "igb", "ixgbe", "i40e", "ice", "bnxt_en", "mlx5_core", "tg3", "r8169",
			"virtio_pci", "virtio_net", "virtio_blk", "ahci", "nvme", "sd_mod", "usb_storage"},
	}
	for name, more := range extra {
		t.Run(name, func(t *testing.T) {
			b, err := Load(filepath.Join("..", "..", "board", name))
			if err != nil {
				t.Fatal(err)
			}
			all := append(append([]string{}, b.Modules...), b.OptionalModules...)
			for _, m := range append(append([]string{}, common...), more...) {
				if !slices.Contains(all, m) {
					t.Errorf("board %s lacks module %s", name, m)
				}
			}
			if b.Console != "ttyS0" {
				t.Errorf("console = %q, want ttyS0", b.Console)
			}
			if !strings.Contains(b.Cmdline, "console=ttyS0") {
				t.Errorf("cmdline %q does not put the console on ttyS0", b.Cmdline)
			}
		})
	}
}
