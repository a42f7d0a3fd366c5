package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the lvsboxd built once for the host tests, cliBinary the lvsbox client.
var binary, cliBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lvsboxd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "lvsboxd")
	cliBinary = filepath.Join(dir, "lvsbox")
	for pkg, out := range map[string]string{".": binary, "../lvsbox": cliBinary} {
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, msg)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// A seed that touches nothing on the host: no interfaces, routes, host name or NAT.
const hostSafeSeed = `{
  "virtual_services": [
    {"name": "web", "address": "192.0.2.100", "port": 80, "forwarding": "dr",
     "real_servers": [{"address": "192.0.2.11"}, {"address": "192.0.2.12", "weight": 2}]}
  ]
}`

type daemon struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs strings.Builder
	addr chan string
	done chan struct{}
}

var listenRE = regexp.MustCompile(`msg="http: listening" addr=(\S+)`)

// start runs lvsboxd with args (plus a private run dir and a free port) and waits until
// it serves HTTP. The process is killed at the end of the test if still running.
func start(t *testing.T, args ...string) *daemon {
	t.Helper()
	args = append(args, "--http", "127.0.0.1:0", "--run", t.TempDir(), "--resync", "100ms",
		"--log-level", "debug", "--version-file", filepath.Join(t.TempDir(), "none.json"))
	d := &daemon{cmd: exec.Command(binary, args...), addr: make(chan string, 1), done: make(chan struct{})}
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("lvsboxd log:\n%s", d.log())
		}
	})
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.logs.WriteString(line + "\n")
			d.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				d.addr <- m[1]
			}
		}
	}()
	select {
	case a := <-d.addr:
		d.addr <- a
	case <-d.done:
		t.Fatalf("lvsboxd exited before listening:\n%s", d.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("lvsboxd did not listen:\n%s", d.log())
	}
	return d
}

func (d *daemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

func (d *daemon) url(path string) string {
	a := <-d.addr
	d.addr <- a
	return "http://" + a + path
}

type status struct {
	Ready    bool `json:"ready"`
	Passes   int  `json:"passes"`
	Revision *struct {
		Number  int    `json:"number"`
		Comment string `json:"comment"`
	} `json:"revision"`
	IPVS struct {
		Available bool   `json:"available"`
		Error     string `json:"error"`
		Services  []struct {
			Name string `json:"name"`
		} `json:"services"`
	} `json:"ipvs"`
}

// waitStatus polls /api/v1/status until at least two passes have run.
func (d *daemon) waitStatus(t *testing.T) status {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st status
		resp, err := http.Get(d.url("/api/v1/status"))
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		if err == nil && st.Passes >= 2 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("no status after two passes (last error %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires exit status 0.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { <-d.done; waited <- d.cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("lvsboxd after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("lvsboxd did not exit after SIGTERM")
	}
}

func writeSeed(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDaemonImportsSeedServesStatusAndStopsCleanly(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	d := start(t, "--data", data, "--seed", writeSeed(t, hostSafeSeed))
	st := d.waitStatus(t)
	if st.Revision == nil || st.Revision.Number != 1 || st.Revision.Comment != "seed import" {
		t.Fatalf("revision = %+v", st.Revision)
	}
	if st.IPVS.Available {
		// A kernel with IPVS: the daemon programmed it and is ready.
		if !st.Ready || len(st.IPVS.Services) == 0 {
			t.Fatalf("IPVS available but status = %+v", st)
		}
	} else {
		// This host: IPVS missing is reported, the daemon keeps running.
		if st.Ready || !strings.Contains(st.IPVS.Error, "not available") {
			t.Fatalf("status without IPVS = %+v", st)
		}
		resp, err := http.Get(d.url("/healthz"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("/healthz = %d without IPVS", resp.StatusCode)
		}
	}
	resp, err := http.Get(d.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "revision 1 (seed import") {
		t.Fatalf("status page:\n%s", page)
	}
	d.stop(t)
	if !strings.Contains(d.log(), "seed imported") || !strings.Contains(d.log(), "kernel state is left in place") {
		t.Fatalf("log:\n%s", d.log())
	}

	// Second boot: the store persisted; a seed is not imported again.
	d = start(t, "--data", data, "--seed", writeSeed(t, `{"system": {"hostname": "other"}}`))
	st = d.waitStatus(t)
	if st.Revision == nil || st.Revision.Number != 1 {
		t.Fatalf("after restart: revision = %+v", st.Revision)
	}
	d.stop(t)
	if !strings.Contains(d.log(), "seed ignored") {
		t.Fatalf("log:\n%s", d.log())
	}
}

func TestDaemonRejectsInvalidSeed(t *testing.T) {
	bad := strings.Replace(hostSafeSeed, `"port": 80`, `"port": 70000, "colour": "red"`, 1)
	d := start(t, "--data", t.TempDir(), "--seed", writeSeed(t, bad))
	st := d.waitStatus(t)
	if st.Revision != nil {
		t.Fatalf("invalid seed stored: %+v", st.Revision)
	}
	d.stop(t)
	log := d.log()
	if !strings.Contains(log, "seed rejected") || !strings.Contains(log, "virtual_services[web].colour: unknown field") {
		t.Fatalf("log does not name the bad field:\n%s", log)
	}
}

func TestDaemonWarnsWhenDataIsOnTmpfs(t *testing.T) {
	if _, volatile, err := volatileFS("/dev/shm"); err != nil || !volatile {
		t.Skipf("/dev/shm is not a tmpfs here (%v)", err)
	}
	data, err := os.MkdirTemp("/dev/shm", "lvsboxd-test-")
	if err != nil {
		t.Skipf("cannot use /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	d := start(t, "--data", data)
	d.waitStatus(t)
	d.stop(t)
	if !regexp.MustCompile(`level=WARN msg=".*tmpfs: config will not survive a reboot`).MatchString(d.log()) {
		t.Fatalf("no tmpfs warning:\n%s", d.log())
	}

	// And no warning for a disk-backed directory (when there is one).
	disk := t.TempDir()
	if _, volatile, err := volatileFS(disk); err == nil && !volatile {
		d := start(t, "--data", disk)
		d.waitStatus(t)
		d.stop(t)
		if strings.Contains(d.log(), "will not survive") {
			t.Fatalf("warning on a disk-backed data dir:\n%s", d.log())
		}
	}
}

func TestFlags(t *testing.T) {
	if _, err := parseFlags(nil, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("no --data: %v", err)
	}
	if _, err := parseFlags([]string{"--data", "x", "--log-level", "loud"}, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("bad level: %v", err)
	}
	if _, err := parseFlags([]string{"--data", "x", "extra"}, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("extra args: %v", err)
	}
	o, err := parseFlags([]string{"--data", "/d", "--seed", "/s", "--http", ":80", "--resync", "2s", "--log-level", "debug"}, io.Discard)
	if err != nil || o.data != "/d" || o.seed != "/s" || o.http != ":80" || o.resync != 2*time.Second || o.level.String() != "DEBUG" || o.run != "/run/lvsbox" ||
		o.socket != "/run/lvsbox/api.sock" {
		t.Errorf("flags = %+v, %v", o, err)
	}
	if _, err := os.Stat(imageMarker); err != nil && o.https != "" {
		t.Errorf("--https auto on a host = %q", o.https)
	}
	o, err = parseFlags([]string{"--data", "/d", "--run", "/r", "--https", ":8443"}, io.Discard)
	if err != nil || o.socket != "/r/api.sock" || o.https != ":8443" {
		t.Errorf("flags = %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"--data", "/d", "--socket", "none", "--https", "none"}, io.Discard)
	if err != nil || o.socket != "" || o.https != "" {
		t.Errorf("none: %+v, %v", o, err)
	}
}
