package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/api"
)

func TestRSScript(t *testing.T) {
	f := newFake()
	script := "#!/bin/sh\n# lvsbox real-server script for web\n"
	f.answers["GET /api/v1/services/web/realserver-script"] = answer{body: []byte(script)}
	f.answers["GET /api/v1/services/nat/realserver-script"] = answer{409, api.ErrorBody{Error: "virtual service nat: no DR or TUN real servers", Details: []api.Problem{}}}
	sock := serveUnix(t, f)

	r := run(t, "", nil, "--socket", sock, "rs-script", "web")
	if r.code != 0 || r.stdout != script || f.last() != "GET /api/v1/services/web/realserver-script" {
		t.Fatalf("rs-script web: %d %q %q (%s)", r.code, r.stdout, r.stderr, f.last())
	}
	path := filepath.Join(t.TempDir(), "rs.sh")
	if r := run(t, "", nil, "--socket", sock, "rs-script", "-o", path, "web"); r.code != 0 {
		t.Fatalf("rs-script -o: %d %q", r.code, r.stderr)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != script {
		t.Fatalf("written script %q, %v", data, err)
	}
	r = run(t, "", nil, "--socket", sock, "rs-script", "nat")
	if r.code == 0 || !strings.Contains(r.stderr, "no DR or TUN real servers") {
		t.Fatalf("rs-script nat: %d %q", r.code, r.stderr)
	}
	if r := run(t, "", nil, "--socket", sock, "rs-script"); r.code == 0 {
		t.Fatal("rs-script without a service succeeded")
	}
}
