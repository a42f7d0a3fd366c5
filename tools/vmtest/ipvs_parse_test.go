package vmtest

import (
	"regexp"
	"strings"
	"testing"
)

// ipvsbench prints one "CHECK <name> ok|FAIL <detail>" line per check.
var checkLine = regexp.MustCompile(`(?m)^CHECK (\S+) (ok|FAIL)(?: (.*))?$`)

// parseChecks returns the result and detail of every CHECK line of ipvsbench
// output (log lines interleaved by the console are ignored).
func parseChecks(out string) map[string]checkResult {
	res := map[string]checkResult{}
	for _, m := range checkLine.FindAllStringSubmatch(out, -1) {
		res[m[1]] = checkResult{ok: m[2] == "ok", detail: strings.TrimSpace(m[3])}
	}
	return res
}

type checkResult struct {
	ok     bool
	detail string
}

// procSchedulers extracts the schedulers of the service lines of the
// /proc/net/ip_vs dump that `ipvsbench exercise` prints.
func procSchedulers(out string) map[string]bool {
	_, rest, ok := strings.Cut(out, "--- /proc/net/ip_vs (schedulers)")
	if !ok {
		return nil
	}
	dump, _, _ := strings.Cut(rest, "--- end")
	scheds := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^TCP\s+[0-9A-F]{8}:[0-9A-F]{4}\s+(\S+)`).FindAllStringSubmatch(dump, -1) {
		scheds[m[1]] = true
	}
	return scheds
}

func TestParseChecks(t *testing.T) {
	out := "noise\nCHECK info ok IPVS 1.2.1\r\nCHECK tunnels FAIL read back: 1 differences\n[   12.3] IPVS: x\nCHECK lab ok \n"
	got := parseChecks(strings.ReplaceAll(out, "\r", ""))
	if len(got) != 3 || !got["info"].ok || got["info"].detail != "IPVS 1.2.1" || got["tunnels"].ok || !got["lab"].ok {
		t.Fatalf("%+v", got)
	}
}

func TestProcSchedulers(t *testing.T) {
	out := `--- /proc/net/ip_vs (schedulers)
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  C0000201:03E8 rr
  -> C633640A:0050      Masq    1      0          0
TCP  C0000201:03E9 wrr
--- end
TCP  C0000201:03EA lc`
	got := procSchedulers(out)
	if len(got) != 2 || !got["rr"] || !got["wrr"] {
		t.Fatalf("%v", got)
	}
}
