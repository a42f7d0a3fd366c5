package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// lvsbox runs the real client binary.
func lvsbox(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(cliBinary, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), e.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCLIOverSocket drives a real lvsboxd with the real lvsbox over the Unix socket.
func TestCLIOverSocket(t *testing.T) {
	run := t.TempDir()
	sock := filepath.Join(run, "api.sock")
	d := start(t, "--data", filepath.Join(t.TempDir(), "data"), "--socket", sock)
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	dir := t.TempDir()
	one := writeFile(t, dir, "one.json", hostSafeSeed)
	two := writeFile(t, dir, "two.json", strings.Replace(hostSafeSeed, `"weight": 2`, `"weight": 7`, 1))
	s := "--socket=" + sock

	code, out, errOut := lvsbox(t, nil, s, "config", "apply", "-f", one, "--comment", "first")
	if code != 0 || !strings.Contains(out, "committed revision 1") {
		t.Fatalf("apply one: %d %q %q", code, out, errOut)
	}
	if code, out, errOut = lvsbox(t, nil, s, "config", "apply", "-f", two, "--comment", "second"); code != 0 || !strings.Contains(out, "committed revision 2") {
		t.Fatalf("apply two: %d %q %q", code, out, errOut)
	}
	// Based on a stale revision: conflict, exit 4.
	if code, _, errOut = lvsbox(t, nil, s, "config", "apply", "-f", one, "--base", "1"); code != 4 || !strings.Contains(errOut, "conflict") {
		t.Fatalf("stale apply: %d %q", code, errOut)
	}
	// Invalid: exit 3, with the path.
	bad := writeFile(t, dir, "bad.json", strings.Replace(hostSafeSeed, `"port": 80`, `"port": 70000`, 1))
	if code, _, errOut = lvsbox(t, nil, s, "config", "apply", "-f", bad); code != 3 || !strings.Contains(errOut, "virtual_services[web].port") {
		t.Fatalf("invalid apply: %d %q", code, errOut)
	}
	if code, out, _ = lvsbox(t, nil, s, "config", "validate", "-f", bad); code != 3 || !strings.Contains(out, "virtual_services[web].port") {
		t.Fatalf("validate: %d %q", code, out)
	}

	code, out, _ = lvsbox(t, nil, s, "config", "diff", "1", "2")
	if code != 0 || !strings.Contains(out, "~ virtual_services[web].real_servers[") || !strings.Contains(out, "2 -> 7") {
		t.Fatalf("diff: %d %q", code, out)
	}
	code, out, errOut = lvsbox(t, nil, s, "config", "rollback", "1")
	if code != 0 || !strings.Contains(out, "committed revision 3 [restores 1]") {
		t.Fatalf("rollback: %d %q %q", code, out, errOut)
	}

	code, out, _ = lvsbox(t, nil, s, "config", "history", "--json")
	var h struct {
		Revisions []struct {
			Number         uint64 `json:"number"`
			User           string `json:"user"`
			Comment        string `json:"comment"`
			RolledBackFrom uint64 `json:"rolled_back_from"`
		} `json:"revisions"`
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil || code != 0 || len(h.Revisions) != 3 {
		t.Fatalf("history: %d %v %q", code, err, out)
	}
	if r := h.Revisions[0]; r.Number != 3 || r.RolledBackFrom != 1 || !strings.HasPrefix(r.User, "local:") {
		t.Fatalf("newest revision %+v", r)
	}
	if r := h.Revisions[2]; r.Number != 1 || r.Comment != "first" {
		t.Fatalf("oldest revision %+v", r)
	}
	code, out, _ = lvsbox(t, nil, s, "config", "history")
	if code != 0 || !regexp.MustCompile(`(?m)^3 +\S+ \S+ +local:\S+ +rollback to revision 1 \[restores 1\]$`).MatchString(out) {
		t.Fatalf("history text: %q", out)
	}
	code, out, _ = lvsbox(t, nil, s, "config", "get")
	if code != 0 || !strings.Contains(out, `"weight": 2`) {
		t.Fatalf("config after rollback: %q", out)
	}

	// Commit-confirmed without a confirmation rolls back by itself.
	code, out, errOut = lvsbox(t, nil, s, "config", "apply", "-f", two, "--confirm", "1s")
	if code != 0 || !strings.Contains(out, "PENDING") {
		t.Fatalf("confirmed apply: %d %q %q", code, out, errOut)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, out, _ = lvsbox(t, nil, s, "config", "history", "--limit", "1")
		if strings.Contains(out, "auto rollback") || strings.Contains(out, "not confirmed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no automatic rollback: %q\n%s", out, d.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// And a confirmed one stays.
	if code, out, errOut = lvsbox(t, nil, s, "config", "apply", "-f", two, "--confirm", "1m"); code != 0 {
		t.Fatalf("confirmed apply 2: %d %q %q", code, out, errOut)
	}
	if code, out, errOut = lvsbox(t, nil, s, "config", "confirm"); code != 0 || !strings.Contains(out, "confirmed revision 6") {
		t.Fatalf("confirm: %d %q %q", code, out, errOut)
	}

	// Export and re-import.
	exp := filepath.Join(dir, "export.json")
	if code, _, errOut = lvsbox(t, nil, s, "export", "-o", exp); code != 0 {
		t.Fatalf("export: %d %q", code, errOut)
	}
	if code, out, errOut = lvsbox(t, nil, s, "import", exp); code != 0 || !strings.Contains(out, "imported revision 7") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}

	code, out, _ = lvsbox(t, nil, s, "status")
	if code != 0 || !strings.Contains(out, "stored:") || !strings.Contains(out, "revision 7") {
		t.Fatalf("status: %d %q", code, out)
	}
	if code, out, _ = lvsbox(t, nil, s, "whoami"); code != 0 || !strings.Contains(out, "(role admin, via socket)") {
		t.Fatalf("whoami: %d %q", code, out)
	}
	d.stop(t)
	if _, err := os.Stat(sock); err == nil {
		t.Fatal("socket left behind after a clean stop")
	}
}

var httpsRE = regexp.MustCompile(`msg="https: listening" addr=(\S+)`)

// TestHTTPSBootstrapAdmin starts lvsboxd with HTTPS and no users: an initial admin is
// created, its password written to DATA/initial-admin-password and logged once, and it
// works over HTTPS with the certificate's fingerprint pinned.
func TestHTTPSBootstrapAdmin(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	d := start(t, "--data", data, "--https", "127.0.0.1:0")
	d.waitLog(t, httpsRE)
	pwFile := filepath.Join(data, "initial-admin-password")
	fi, err := os.Stat(pwFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", fi, err)
	}
	pwData, _ := os.ReadFile(pwFile)
	pw := strings.TrimSpace(string(pwData))
	if !strings.Contains(d.log(), "password="+pw) {
		t.Fatalf("password not logged:\n%s", d.log())
	}
	m := httpsRE.FindStringSubmatch(d.log())
	fp := regexp.MustCompile(`sha256=(\S+)`).FindStringSubmatch(d.log())
	if m == nil || fp == nil {
		t.Fatalf("no https address or fingerprint in the log:\n%s", d.log())
	}
	for _, f := range []string{"tls/cert.pem", "tls/key.pem"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Fatal(err)
		}
	}
	url := "--url=https://" + m[1]
	env := []string{"LVSBOX_USER=admin", "LVSBOX_PASSWORD=" + pw}
	if code, out, errOut := lvsbox(t, env, url, "--pin", fp[1], "whoami"); code != 0 || out != "admin (role admin, via password)\n" {
		t.Fatalf("whoami over HTTPS: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := lvsbox(t, []string{"LVSBOX_USER=admin", "LVSBOX_PASSWORD=wrong"}, url, "--pin", fp[1], "status"); code != 5 {
		t.Fatalf("wrong password: %d %q", code, errOut)
	}
	if code, _, errOut := lvsbox(t, env, url, "status"); code != 1 || !strings.Contains(errOut, "certificate") {
		t.Fatalf("unpinned self-signed certificate accepted: %d %q", code, errOut)
	}
	d.stop(t)

	// Restart: the password is reused and not logged again.
	d = start(t, "--data", data, "--https", "127.0.0.1:0")
	d.waitLog(t, httpsRE)
	d.stop(t)
	if strings.Contains(d.log(), pw) {
		t.Fatal("password logged again on restart")
	}
}

// waitLog waits until the daemon's log matches re.
func (d *daemon) waitLog(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !re.MatchString(d.log()); {
		if time.Now().After(deadline) {
			t.Fatalf("log never matched %s:\n%s", re, d.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
