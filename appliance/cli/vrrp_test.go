package cli

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrpd"
)

func TestWriteVRRP(t *testing.T) {
	at := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	v := &vrrpd.Status{Revision: 7, Instances: []vrrpd.InstanceStatus{{
		InstanceStatus: node.InstanceStatus{Name: "front", Interface: "eth0", VRID: 51, State: "Master",
			BasePriority: 200, Priority: 150, MasterAddr: netip.MustParseAddr("192.0.2.2"),
			VIPs: []netip.Prefix{netip.MustParsePrefix("192.0.2.100/24")}, VIPsHeld: true, Since: at,
			Counters:    node.Counters{AdvertsSent: 12, AdvertsReceived: 3},
			Transitions: []node.TransitionRecord{{At: at, From: "Backup", To: "Master", Reason: "master-down"}}},
		Unit:     "instance/front",
		Tracking: []vrrpd.TrackStatus{{Kind: "service", Name: "web", Weight: -50, State: "down", Delta: -50}},
	}}, Errors: []string{`vrrp instance "x": bad`}}
	var b bytes.Buffer
	writeVRRP(&b, v)
	for _, want := range []string{"vrrp: revision 7", "front", "eth0", "51", "Master", "150/200", "192.0.2.2",
		"192.0.2.100/24 (held)", "Backup -> Master (master-down)", "tracks service web (weight -50): down, delta -50",
		`NOT RUNNING: vrrp instance "x": bad`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	writeVRRP(&b, &vrrpd.Status{})
	if b.Len() != 0 {
		t.Errorf("empty status printed %q", b.String())
	}
}
