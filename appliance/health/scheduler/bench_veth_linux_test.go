package scheduler

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/tools/testenv"
)

// BenchmarkTCP10kVeth: as BenchmarkTCP10k, but the 10,000 listeners live in a
// network namespace of their own, reached over a veth pair from this process (root
// only). The server namespace answers for 198.18.0.0/16 (the benchmarking range,
// RFC 2544) through a local route; this side routes it to the veth. Everything is
// deleted at cleanup (deleting the namespace deletes the veth and its route).
func BenchmarkTCP10kVeth(b *testing.B) {
	testenv.Need(b, os.Geteuid() == 0, "needs root for a network namespace")
	_, err := exec.LookPath("ip")
	testenv.Need(b, err == nil, "needs iproute2's ip")
	ns := fmt.Sprintf("lvbv-%d", os.Getpid())
	host, peer := fmt.Sprintf("lvbv%d", os.Getpid()%100000), "eth0"
	run := func(args ...string) {
		b.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			b.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	b.Cleanup(func() {
		exec.Command("ip", "link", "del", host).Run()
		exec.Command("ip", "netns", "del", ns).Run()
	})
	run("-n", ns, "link", "set", "lo", "up")
	run("link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns)
	run("addr", "add", "192.0.2.1/30", "dev", host)
	run("link", "set", host, "up")
	run("-n", ns, "addr", "add", "192.0.2.2/30", "dev", peer)
	run("-n", ns, "link", "set", peer, "up")
	run("-n", ns, "route", "add", "local", "198.18.0.0/16", "dev", "lo")
	run("route", "add", "198.18.0.0/16", "via", "192.0.2.2", "dev", host)
	benchChecks(b, []string{"ip", "netns", "exec", ns}, "tcp", 10000, "198.18.1.1", 9000, health.Spec{Type: health.TypeTCP})
}
