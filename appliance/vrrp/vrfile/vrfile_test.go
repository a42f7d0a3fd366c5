package vrfile

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
)

const sample = `{
  "instances": [
    {"name": "front", "interface": "eth0", "version": 2, "vrid": 51, "priority": 200,
     "advert_interval": "1s", "auth_pass": "secret12", "vips": ["192.0.2.100/24", "192.0.2.101"],
     "routes": [{"dst": "0.0.0.0/0", "gateway": "192.0.2.254", "metric": 10}],
     "track_interfaces": [{"name": "eth1", "weight": -50}], "preempt_delay": "30s",
     "garp": {"count": 5, "spacing": "20ms", "refresh": "1m"}},
    {"name": "v6", "interface": "eth0", "version": 3, "vrid": 52, "priority": 100,
     "advert_interval": "30ms", "vips": ["fe80::52/64", "2001:db8::52/64"], "vmac": true,
     "unicast_peers": ["fe80::2"], "source_address": "fe80::1"}
  ],
  "sync_groups": [{"name": "g", "members": ["front", "v6"]}]
}`

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "vrrp.json")
	if err := os.WriteFile(p, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	f := c.Instances[0]
	if f.Version != 2 || f.AuthType != vrrp.AuthPass || f.AuthPass != "secret12" || f.AdvertInterval != time.Second ||
		f.PreemptDelay != 30*time.Second || len(f.VIPs) != 2 || f.VIPs[1] != netip.MustParsePrefix("192.0.2.101/32") ||
		f.Routes[0].Gateway != netip.MustParseAddr("192.0.2.254") || f.Routes[0].Metric != 10 ||
		f.TrackInterfaces[0].Weight != -50 || f.Announce.Count != 5 || f.Announce.Refresh != time.Minute {
		t.Errorf("front: %+v", f)
	}
	v6 := c.Instances[1]
	if !v6.VMAC || v6.AdvertInterval != 30*time.Millisecond || v6.SourceAddr != netip.MustParseAddr("fe80::1") || len(v6.UnicastPeers) != 1 {
		t.Errorf("v6: %+v", v6)
	}
	if len(c.SyncGroups) != 1 || len(c.SyncGroups[0].Members) != 2 {
		t.Errorf("groups: %+v", c.SyncGroups)
	}
	// Round trip through Marshal (the lab writes files this way).
	var file File
	if err := json.Unmarshal([]byte(sample), &file); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(file)
	if err != nil || !strings.Contains(string(b), `"advert_interval":"30ms"`) {
		t.Errorf("marshal: %v %s", err, b)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field": `{"instances": [{"name": "a", "bogus": 1}]}`,
		"bad duration":  `{"instances": [{"name": "a", "advert_interval": 5}]}`,
		"bad vip":       `{"instances": [{"name": "a", "interface": "eth0", "version": 3, "vrid": 1, "priority": 1, "advert_interval": "1s", "vips": ["nope"]}]}`,
		"invalid":       `{"instances": [{"name": "a", "interface": "eth0", "version": 3, "vrid": 0, "priority": 1, "advert_interval": "1s", "vips": ["192.0.2.1"]}]}`,
	} {
		p := filepath.Join(t.TempDir(), "f.json")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}
