package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
)

func TestConvertersProduceValidConfig(t *testing.T) {
	dir := t.TempDir()
	ka := filepath.Join(dir, "keepalived.conf")
	os.WriteFile(ka, []byte(`virtual_server 192.0.2.10 80 {
    lb_algo wrr
    lb_kind DR
    protocol TCP
    real_server 192.0.2.21 80 {
        weight 3
        TCP_CHECK { connect_timeout 3 }
    }
}
`), 0o644)
	ipv := filepath.Join(dir, "rules")
	os.WriteFile(ipv, []byte("-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 2\n"), 0o644)
	for kind, path := range map[string]string{"keepalived": ka, "ipvsadm": ipv} {
		doc, notes, err := converters[kind].Convert(path)
		if err != nil {
			t.Fatalf("%s: %v\n%s", kind, err, strings.Join(notes, "\n"))
		}
		cfg, err := config.DecodeBytes(doc)
		if err != nil {
			t.Fatalf("%s: converted document does not decode: %v", kind, err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: converted config invalid: %v", kind, err)
		}
		if len(cfg.VirtualServices) != 1 || len(cfg.VirtualServices[0].RealServers) != 1 {
			t.Fatalf("%s: got %+v", kind, cfg.VirtualServices)
		}
	}
}

func TestConverterRefusesInvalidResult(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rules")
	os.WriteFile(p, []byte("-A -t www.example.invalid:80 -s rr\n"), 0o644)
	_, notes, err := converters["ipvsadm"].Convert(p)
	if err == nil {
		t.Fatal("a host name (never resolved) was accepted")
	}
	if len(notes) == 0 || !strings.Contains(strings.Join(notes, "\n"), ":1") {
		t.Fatalf("notes do not point at the line: %q", notes)
	}
}
