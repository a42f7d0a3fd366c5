package vrlab

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrfile"
)

// TestCaptureDecodes captures our adverts (v2 with PASS, v3 over IPv4, v3
// over IPv6, and the priority-0 adverts of a clean stop) on the client and
// checks that each one passes the core's receive checks (checksums with the
// v3 pseudo-header included) and that tcpdump -vvv decodes them as VRRP
// without complaint (it verifies v2 checksums itself).
func TestCaptureDecodes(t *testing.T) {
	l := newLab(t, "tcpdump")
	r, client := addNodes(t, l, 1)
	cp, err := client.StartCapture("cap", "eth0", "ip proto 112 or ip6 proto 112")
	if err != nil {
		t.Fatal(err)
	}
	cfg := one(
		inst("v2", 51, 200, "1s", func(in *vrfile.Instance) { in.Version, in.AuthPass = 2, "secret12" }),
		inst("v3", 52, 200, "100ms"),
		inst("v6", 53, 200, "100ms", func(in *vrfile.Instance) { in.VIPs = []string{"fe80::153/64", "2001:db8::153/64"} }),
	)
	d := startVRRPD(t, r[0], cfg)
	count := func() map[uint8][2]int {
		m := map[uint8][2]int{}
		frames, _ := cp.Frames()
		for _, f := range frames {
			if f.Kind == "vrrp" && len(f.Received.Payload) > 2 {
				c := m[f.Received.Payload[1]]
				if f.Received.Payload[2] == 0 {
					c[1]++
				} else {
					c[0]++
				}
				m[f.Received.Payload[1]] = c
			}
		}
		return m
	}
	waitFor(t, 10*time.Second, "3 adverts per instance", func() bool {
		c := count()
		return c[51][0] >= 3 && c[52][0] >= 3 && c[53][0] >= 3
	})
	d.Stop(5 * time.Second)
	waitFor(t, 5*time.Second, "a priority-0 advert per instance", func() bool {
		c := count()
		return c[51][1] >= 1 && c[52][1] >= 1 && c[53][1] >= 1
	})
	cp.Stop(5 * time.Second)

	conf, err := cfg.Convert()
	if err != nil {
		t.Fatal(err)
	}
	byVRID := map[uint8]vrrp.Config{}
	for _, ic := range conf.Instances {
		byVRID[ic.VRID] = ic.VRRP(ic.SourceAddr) // no primary: our own address is not "own" here
	}
	frames, err := cp.Frames()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range frames {
		if f.Kind != "vrrp" {
			continue
		}
		n++
		v := vrrp.Decode(f.Received)
		if v.Accepted() {
			c := byVRID[v.Packet.VRID]
			v = c.CheckDecoded(v)
		}
		if !v.Accepted() {
			t.Errorf("advert %v -> %v dropped by the receive checks: %s", f.Received.Src, f.Received.Dst, v.Drop)
		}
		if v.Packet != nil && v.Packet.Version == 3 && v.Src.Is6() && !v.Src.IsLinkLocalUnicast() {
			t.Errorf("IPv6 advert from %v, want a link-local source", v.Src)
		}
	}
	out, err := exec.Command("tcpdump", "-vvv", "-n", "-r", cp.File).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpdump -r: %v\n%s", err, out)
	}
	lines := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "VRRPv") {
			lines++
		}
		if strings.Contains(strings.ToLower(line), "bad") {
			t.Errorf("tcpdump complains: %s", line)
		}
	}
	if lines != n {
		t.Errorf("tcpdump shows %d VRRP lines for %d adverts:\n%s", lines, n, out)
	}
	if testing.Verbose() {
		t.Logf("tcpdump -vvv -r (first lines):\n%s", firstLines(string(out), 12))
	}
}

func firstLines(s string, n int) string {
	ls := strings.SplitN(s, "\n", n+1)
	return strings.Join(ls[:min(n, len(ls))], "\n")
}
