package board

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	b, unknown, err := Parse([]byte(`{"board":"qemu-x86_64","hostname":"lb1","console":"ttyS0",
		"modules":["virtio_pci"," ip_vs","ip_vs",""],"optional_modules":["e1000"],"module_options":{"bonding":"max_bonds=0"},"extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Board{Board: "qemu-x86_64", Hostname: "lb1", Console: "ttyS0",
		Modules: []string{"virtio_pci", "ip_vs"}, OptionalModules: []string{"e1000"},
		ModuleOptions: map[string]string{"bonding": "max_bonds=0"}}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("got %+v, want %+v", b, want)
	}
	if !reflect.DeepEqual(unknown, []string{"extra"}) {
		t.Errorf("unknown = %v", unknown)
	}
}

func TestParseDefaultsAndErrors(t *testing.T) {
	b, _, err := Parse([]byte(`{}`))
	if err != nil || b.Hostname != DefaultHostname {
		t.Errorf("empty: %+v %v", b, err)
	}
	b, _, err = Parse([]byte(`{"hostname":"bad_name!","modules":["a"]}`))
	if err == nil || b.Hostname != DefaultHostname || len(b.Modules) != 1 {
		t.Errorf("bad hostname: %+v %v", b, err)
	}
	b, _, err = Parse([]byte(`{"modules":`))
	if err == nil || b.Hostname != DefaultHostname {
		t.Errorf("broken json: %+v %v", b, err)
	}
}

func TestLoadMissing(t *testing.T) {
	b, _, err := Load(filepath.Join(t.TempDir(), "nope.json"))
	if err == nil || b.Hostname != DefaultHostname {
		t.Errorf("got %+v %v", b, err)
	}
	p := filepath.Join(t.TempDir(), "board.json")
	if err := os.WriteFile(p, []byte(`{"hostname":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _, err := Load(p); err != nil || b.Hostname != "x" {
		t.Errorf("got %+v %v", b, err)
	}
}

func TestConsoleDevice(t *testing.T) {
	for in, want := range map[string]string{
		"": "/dev/console", "ttyS0": "/dev/ttyS0", "/dev/hvc0": "/dev/hvc0", "ttyS1,115200n8": "/dev/ttyS1",
	} {
		if got := (Board{Console: in}).ConsoleDevice(); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}

func TestValidHostname(t *testing.T) {
	for _, ok := range []string{"lvsbox", "lb-1.example.org", "A9"} {
		if err := ValidHostname(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	long := ""
	for range 65 {
		long += "a"
	}
	for _, bad := range []string{"", "-a", "a-", "a..b", "a b", long} {
		if ValidHostname(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
