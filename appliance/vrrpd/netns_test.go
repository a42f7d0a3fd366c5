package vrrpd_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/api"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vrlab"
	"github.com/lvsbox/lvsbox/appliance/vrrpd"
	"github.com/lvsbox/lvsbox/tools/testenv"
)

// box is one lvsboxd in a lab node.
type box struct {
	t    *testing.T
	node *vrlab.Node
	proc *vrlab.Proc
	sock string
	http *http.Client
}

func seed(addr string, frontPrio, otherPrio int, otherVIP string) map[string]any {
	inst := func(name string, vrid, prio int, vip string) map[string]any {
		return map[string]any{"name": name, "interface": "eth0", "vrid": vrid, "priority": prio,
			"advert_interval": "100ms", "virtual_addresses": []map[string]any{{"address": vip}}}
	}
	return map[string]any{
		"interfaces":     []map[string]any{{"name": "eth0", "addresses": []string{addr}}},
		"vrrp_instances": []map[string]any{inst("front", 51, frontPrio, "192.0.2.100/24"), inst("other", 52, otherPrio, otherVIP)},
	}
}

func startBox(t *testing.T, lab *vrlab.Lab, bin, name, addr string, cfg map[string]any, extra ...string) *box {
	t.Helper()
	n, err := lab.AddNode(name, vrlab.LinkSpec{Dev: "eth0", Segment: "lan", Addrs: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "lvr-vrrpd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b, _ := json.Marshal(cfg)
	seedPath := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(seedPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "api.sock")
	args := []string{bin, "--data", filepath.Join(dir, "data"), "--seed", seedPath, "--socket", sock,
		"--run", filepath.Join(dir, "run"), "--https", "none", "--log-level", "debug"}
	p, err := n.Start("lvsboxd", append(args, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.Output())
		}
	})
	bx := &box{t: t, node: n, proc: p, sock: sock, http: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}}
	return bx
}

func (b *box) get(path string) ([]byte, error) {
	r, err := b.http.Get("http://lvsbox" + path)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s: %s", path, r.Status, body)
	}
	return body, err
}

func (b *box) status() (api.Document, error) {
	var d api.Document
	body, err := b.get("/api/v1/status")
	if err != nil {
		return d, err
	}
	return d, json.Unmarshal(body, &d)
}

func (b *box) instance(name string) (vrrpd.InstanceStatus, bool) {
	d, err := b.status()
	if err != nil || d.VRRP == nil {
		return vrrpd.InstanceStatus{}, false
	}
	for _, in := range d.VRRP.Instances {
		if in.Name == name {
			return in, true
		}
	}
	return vrrpd.InstanceStatus{}, false
}

func (b *box) state(name string) string {
	in, _ := b.instance(name)
	return in.State
}

// put commits cfg over the API and waits until VRRP runs the new revision.
func (b *box) put(cfg map[string]any) {
	b.t.Helper()
	d, err := b.status()
	if err != nil || d.Config == nil || d.Config.Revision == nil {
		b.t.Fatalf("status before put: %v", err)
	}
	base := d.Config.Revision.Number
	raw, _ := json.Marshal(cfg)
	body, _ := json.Marshal(api.ApplyRequest{BaseRevision: &base, Comment: "vrrpd test", Config: raw})
	req, _ := http.NewRequest("PUT", "http://lvsbox/api/v1/config", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	rb, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 {
		b.t.Fatalf("PUT config: %s: %s", r.Status, rb)
	}
	eventually(b.t, "VRRP runs the new revision", 10*time.Second, func() bool {
		d, err := b.status()
		return err == nil && d.VRRP != nil && d.VRRP.Revision > base
	})
}

// sawEvent reads the replayed event stream for a vrrp event containing every
// fragment.
func (b *box) sawEvent(fragments ...string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://lvsbox/api/v1/events?last_event_id=none-0", nil)
	r, err := (&http.Client{Transport: b.http.Transport}).Do(req)
	if err != nil {
		b.t.Logf("events: %v", err)
		return false
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	typ := ""
	for sc.Scan() {
		line := sc.Text()
		if t, ok := strings.CutPrefix(line, "event: "); ok {
			typ = t
			continue
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok && typ == vrrpd.EventType {
			all := true
			for _, f := range fragments {
				all = all && strings.Contains(d, f)
			}
			if all {
				return true
			}
		}
	}
	return false
}

func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
	}
}

func TestLvsboxdVRRP(t *testing.T) {
	testenv.NeedRoot(t)
	testenv.NeedTools(t, "ip", "go")
	vrlab.Sweep()
	binDir := t.TempDir()
	bin := filepath.Join(binDir, "lvsboxd")
	cli := filepath.Join(binDir, "lvsbox")
	for pkg, out := range map[string]string{"appliance/cmd/lvsboxd": bin, "appliance/cmd/lvsbox": cli} {
		if b, err := exec.Command("go", "build", "-o", out, "github.com/lvsbox/lvsbox/"+pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, b)
		}
	}
	lab, err := vrlab.New(filepath.Join(t.TempDir(), "lab"), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })

	cfgA := seed("192.0.2.2/24", 200, 150, "192.0.2.101/24")
	a := startBox(t, lab, bin, "a", "192.0.2.2/24", cfgA, "--vrrp-rt", "10")
	b := startBox(t, lab, bin, "b", "192.0.2.3/24", seed("192.0.2.3/24", 100, 50, "192.0.2.101/24"))

	// Election by priority: a (200) is master of front and holds the VIP.
	eventually(t, "a master, b backup", 15*time.Second, func() bool {
		return a.state("front") == "Master" && b.state("front") == "Backup" && a.state("other") == "Master" && b.state("other") == "Backup"
	})
	eventually(t, "VIP on a only", 5*time.Second, func() bool {
		return a.node.HasAddr("eth0", "192.0.2.100") && !b.node.HasAddr("eth0", "192.0.2.100")
	})
	if !strings.Contains(a.proc.Output(), "policy=SCHED_RR priority=10") {
		t.Error("a: --vrrp-rt 10 not applied (no SCHED_RR log line)")
	}
	inA, _ := a.instance("front")
	inB, _ := b.instance("front")
	if inB.MasterAddr.String() != "192.0.2.2" || !inA.VIPsHeld || inA.BasePriority != 200 {
		t.Errorf("status: a %+v\nb %+v", inA, inB)
	}
	transA, transB := len(inA.Transitions), len(inB.Transitions)

	// Status table and metrics show the instance.
	out, err := exec.Command(cli, "--socket", a.sock, "status").CombinedOutput()
	if err != nil {
		t.Fatalf("lvsbox status: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "vrrp: revision 1") || !regexp.MustCompile(`front\s+eth0\s+51\s+Master\s+200\s+192\.0\.2\.2\s+192\.0\.2\.100/24 \(held\)`).Match(out) {
		t.Errorf("lvsbox status lacks the front instance:\n%s", out)
	}
	metrics, err := a.get("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`lvsbox_vrrp_state{instance="front",interface="eth0",vrid="51"} 2`, `lvsbox_vrrp_adverts_sent_total{instance="front"`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// A change that touches only "other" (its VIP, applied live: the new VIP
	// is added, the old one removed, no transition) and front's priority
	// (live): front makes no transition on either box and a keeps its VIP
	// throughout.
	otherA, _ := a.instance("other")
	cfgA["vrrp_instances"].([]map[string]any)[1]["virtual_addresses"] = []map[string]any{{"address": "192.0.2.102/24"}}
	cfgA["vrrp_instances"].([]map[string]any)[0]["priority"] = 220
	stopWatch := make(chan struct{})
	lost := make(chan string, 1)
	go func() {
		for {
			select {
			case <-stopWatch:
				close(lost)
				return
			case <-time.After(10 * time.Millisecond):
			}
			if !a.node.HasAddr("eth0", "192.0.2.100") {
				lost <- "front's VIP left a during the config change"
				close(lost)
				return
			}
		}
	}()
	a.put(cfgA)
	eventually(t, "other's new VIP on a, old one gone", 10*time.Second, func() bool {
		return a.node.HasAddr("eth0", "192.0.2.102") && !a.node.HasAddr("eth0", "192.0.2.101")
	})
	time.Sleep(time.Second) // a backup would notice a missing master within 3 adverts + skew
	close(stopWatch)
	if msg, ok := <-lost; ok {
		t.Error(msg)
	}
	inA, _ = a.instance("front")
	inB, _ = b.instance("front")
	if len(inA.Transitions) != transA || len(inB.Transitions) != transB || inA.State != "Master" || inA.Restarts != 0 {
		t.Errorf("front moved on a config change that did not touch it: a %d->%d transitions (%s, restarts %d), b %d->%d",
			transA, len(inA.Transitions), inA.State, inA.Restarts, transB, len(inB.Transitions))
	}
	if inA.Priority != 220 || inA.BasePriority != 220 {
		t.Errorf("live priority: effective %d base %d, want 220", inA.Priority, inA.BasePriority)
	}
	if o, _ := a.instance("other"); o.Restarts != 0 || len(o.Transitions) != len(otherA.Transitions) || o.State != "Master" {
		t.Errorf("other on a: restarts %d, transitions %d->%d, %s; want a live update", o.Restarts, len(otherA.Transitions), len(o.Transitions), o.State)
	}

	t.Logf("config change: front untouched (a %d, b %d transitions), other's VIP changed live", len(inA.Transitions), len(inB.Transitions))

	// kill -9 of the master: b takes the VIP.
	if _, err := a.proc.Kill9(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b master after kill -9 of a", 5*time.Second, func() bool {
		return b.state("front") == "Master" && b.node.HasAddr("eth0", "192.0.2.100")
	})
	inB, _ = b.instance("front")
	last := inB.Transitions[len(inB.Transitions)-1]
	if last.From != "Backup" || last.To != "Master" || last.Reason != "master-down" {
		t.Errorf("b's last transition %+v", last)
	}
	// Every transition was an SSE event: replay b's ring (an unknown epoch
	// replays everything) and find front's takeover.
	if !b.sawEvent(`"instance":"front"`, `"to":"Master"`, `"reason":"master-down"`) {
		t.Error("no vrrp event for front's takeover on b's event stream")
	}
}
