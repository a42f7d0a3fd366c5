package vmtest

import (
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// parseServices groups an ipvsTable by service: the service line (its first
// three fields: protocol, address, scheduler, plus flags) -> its real servers
// as "ADDR FWD WEIGHT".
func parseServices(table string) map[string][]string {
	out := map[string][]string{}
	cur := ""
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "->" && cur != "":
			out[cur] = append(out[cur], strings.Join(f[1:], " "))
		case len(f) >= 3 && f[0] != "->":
			cur = strings.Join(f, " ")
			out[cur] = nil
		}
	}
	return out
}

// findService returns the header and real servers of the service whose line
// starts with prefix (procSvc).
func findService(tab map[string][]string, prefix string) (string, []string, bool) {
	for h, rs := range tab {
		if h == prefix || strings.HasPrefix(h, prefix+" ") {
			return h, rs, true
		}
	}
	return "", nil, false
}

// destOf returns the forwarding and weight of real server dest ("C633640B:0050")
// in a service's real-server list.
func destOf(reals []string, dest string) (fwd, weight string, ok bool) {
	for _, r := range reals {
		if f := strings.Fields(r); len(f) == 3 && f[0] == dest {
			return f[1], f[2], true
		}
	}
	return "", "", false
}

func formatTable(tab map[string][]string) string {
	var hs []string
	for h := range tab {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h + "\n")
		for _, r := range tab[h] {
			b.WriteString("  -> " + r + "\n")
		}
	}
	return b.String()
}

// feature is one line of `ethtool -k`.
type feature struct {
	On, Fixed bool
}

func (f feature) String() string {
	s := "off"
	if f.On {
		s = "on"
	}
	if f.Fixed {
		s += " [fixed]"
	}
	return s
}

// ethtoolNames maps the legacy names `ethtool -k` prints to the kernel's
// feature names.
var ethtoolNames = map[string]string{
	"generic-receive-offload":      "rx-gro",
	"large-receive-offload":        "rx-lro",
	"generic-segmentation-offload": "tx-generic-segmentation",
	"tcp-segmentation-offload":     "tso",
}

var ethtoolLine = regexp.MustCompile(`(?m)^\s*([a-z0-9-]+): (on|off)( \[(?:fixed|requested on|requested off)\])?\s*$`)

// parseEthtool reads `ethtool -k IF` output into kernel feature name -> state
// (log lines interleaved by the console are ignored).
func parseEthtool(out string) map[string]feature {
	fs := map[string]feature{}
	for _, m := range ethtoolLine.FindAllStringSubmatch(strings.ReplaceAll(out, "\r", ""), -1) {
		name := m[1]
		if n, ok := ethtoolNames[name]; ok {
			name = n
		}
		fs[name] = feature{On: m[2] == "on", Fixed: m[3] == " [fixed]"}
	}
	return fs
}

func TestParseServices(t *testing.T) {
	table := ipvsTable(`IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C0000267:0050 rr persistent 75000
  -> C633640C:0050      Masq    1      0          3
  -> C633640B:0050      Masq    1      1          9
[   12.3] lvsboxd: level=INFO msg=pass
TCP  [2001:0db8:0001:0000:0000:0000:0000:0100]:0050 rr
  -> [2001:0db8:0002:0000:0000:0000:0000:0011]:0050      Masq    1      0          0
TCP  C0000266:1F90 rr
`)
	tab := parseServices(table)
	h, reals, ok := findService(tab, procSvc(dpVIPSticky, 80))
	if !ok || h != "TCP C0000267:0050 rr persistent 75000" || len(reals) != 2 {
		t.Fatalf("sticky: %q %v %v\n%s", h, reals, ok, formatTable(tab))
	}
	if fwd, w, ok := destOf(reals, procDest(rs1IP, 80)); !ok || fwd != "Masq" || w != "1" {
		t.Fatalf("rs1 in sticky: %s %s %v", fwd, w, ok)
	}
	_, reals, ok = findService(tab, procSvc(dpVIP6, 80))
	if !ok || len(reals) != 1 {
		t.Fatalf("web6: %v %v\n%s", reals, ok, formatTable(tab))
	}
	if _, _, ok := destOf(reals, procAny(dpRS16, 80)); !ok {
		t.Fatalf("web6 lacks %s: %v", procAny(dpRS16, 80), reals)
	}
	if _, reals, ok := findService(tab, procSvc(dpVIPTUN, dpTUNPort)); !ok || len(reals) != 0 {
		t.Fatalf("tun: %v %v", reals, ok)
	}
	if _, _, ok := findService(tab, "TCP C0000264:0050"); ok {
		t.Fatal("found a service that is not there")
	}
}

func TestParseEthtool(t *testing.T) {
	out := "Features for eth0:\r\nrx-checksumming: on [fixed]\ngeneric-segmentation-offload: off\n" +
		"generic-receive-offload: off\nlarge-receive-offload: off [fixed]\nrx-gro-hw: off\n" +
		"[  3.1] lvsboxd: noise: on\ntx-udp-segmentation: off [requested on]\n"
	got := parseEthtool(out)
	want := map[string]feature{
		"rx-checksumming": {On: true, Fixed: true}, "tx-generic-segmentation": {},
		"rx-gro": {}, "rx-lro": {Fixed: true}, "rx-gro-hw": {}, "tx-udp-segmentation": {},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestProcDest6(t *testing.T) {
	if got := procDest6(netip.MustParseAddr("2001:db8:1::100"), 80); got != "[2001:0db8:0001:0000:0000:0000:0000:0100]:0050" {
		t.Fatal(got)
	}
}

// TestDataplaneConfigsValid: every configuration the data-plane test applies
// decodes and validates with the real model, and the variants differ only as
// meant.
func TestDataplaneConfigsValid(t *testing.T) {
	for _, v := range dpVariants {
		b, err := dpConfigJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		c, err := config.DecodeBytes(b)
		if err != nil {
			t.Fatalf("%s: %v", v.file(), err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", v.file(), err)
		}
		var web config.VirtualService
		for _, vs := range c.VirtualServices {
			if vs.Name == "web" {
				web = vs
			}
		}
		want := v.scheduler
		if want == "" {
			want = "wrr"
		}
		if web.Scheduler != want {
			t.Errorf("%s: web scheduler %q", v.file(), web.Scheduler)
		}
		n := 2
		if v.remove != "" {
			n = 1
		}
		if len(web.RealServers) != n {
			t.Errorf("%s: web has %d real servers", v.file(), len(web.RealServers))
		}
		drained := 0
		for _, rs := range web.RealServers {
			if rs.AdminState == config.StateDrain {
				drained++
			}
		}
		if drained != map[bool]int{true: 1, false: 0}[v.drain != ""] {
			t.Errorf("%s: %d drained", v.file(), drained)
		}
	}
	names := map[string]bool{}
	for _, v := range dpVariants {
		if names[v.file()] {
			t.Fatalf("two variants named %s", v.file())
		}
		names[v.file()] = true
	}
}
