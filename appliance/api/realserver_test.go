package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/rshelper"
)

func TestRealServerScript(t *testing.T) {
	e := newEnv(t)
	e.srv.RealServerScript = func(cfg config.Config, service string) (string, error) {
		switch service {
		case "web":
			return "#!/bin/sh\n# web\n", nil
		case "nat":
			return "", fmt.Errorf("rshelper: service nat: %w", rshelper.ErrNoScript)
		}
		return "", errors.New("tunnel gue: the helper writes scripts for ipip tunnels only")
	}
	e.tls = e.srv.TLSHandler()
	e.apply(0, `{"virtual_services":[
	  {"name":"web","address":"192.0.2.100","port":80,"forwarding":"dr","real_servers":[{"address":"192.0.2.11"}]},
	  {"name":"nat","address":"192.0.2.100","port":81,"forwarding":"nat","real_servers":[{"address":"198.51.100.11"}]},
	  {"name":"gue","address":"192.0.2.100","port":82,"forwarding":"tun","tunnel":{"type":"gue","port":6080},"real_servers":[{"address":"198.51.100.11"}]}]}`)

	r := e.do("GET", "/api/v1/services/web/realserver-script", creds[auth.RoleViewer], nil)
	if r.code != 200 || string(r.body) != "#!/bin/sh\n# web\n" || !strings.HasPrefix(r.hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("web: %d %q %q", r.code, r.hdr.Get("Content-Type"), r.body)
	}
	for _, c := range []struct {
		name string
		code int
		msg  string
	}{
		{"nosuch", 404, `no virtual service named "nosuch"`},
		{"nat", 409, "no DR or TUN real servers"},
		{"gue", 422, "ipip tunnels only"},
	} {
		r := e.do("GET", "/api/v1/services/"+c.name+"/realserver-script", creds[auth.RoleViewer], nil)
		if r.code != c.code || !strings.Contains(r.errBody(t).Error, c.msg) {
			t.Errorf("%s: %d %s", c.name, r.code, r.body)
		}
	}
	e.srv.RealServerScript = nil
	e.tls = e.srv.TLSHandler()
	if r := e.do("GET", "/api/v1/services/web/realserver-script", creds[auth.RoleViewer], nil); r.code != 503 {
		t.Errorf("without a script source: %d", r.code)
	}
}

func TestKernelCheckRefusesCommitAndDryRun(t *testing.T) {
	e := newEnv(t)
	e.srv.Kernel = func(cfg config.Config) error {
		for i, vs := range cfg.VirtualServices {
			if vs.Scheduler == "mh" {
				return config.Errors{{Path: fmt.Sprintf("virtual_services[%d].scheduler", i), Msg: "the running kernel does not offer the mh scheduler (it has: rr, wlc)"}}
			}
		}
		return nil
	}
	e.tls = e.srv.TLSHandler()
	bad := `{"virtual_services":[{"name":"web","address":"192.0.2.100","port":80,"scheduler":"mh","real_servers":[{"address":"192.0.2.11"}]}]}`
	r := e.do("PUT", "/api/v1/config", creds[auth.RoleAdmin], map[string]any{"base_revision": 0, "config": json.RawMessage(bad)})
	if r.code != 422 || !strings.Contains(string(r.body), "does not offer the mh scheduler") {
		t.Fatalf("commit: %d %s", r.code, r.body)
	}
	var vr ValidateResponse
	r = e.do("POST", "/api/v1/config/validate", creds[auth.RoleViewer], map[string]any{"config": json.RawMessage(bad)})
	r.decode(t, &vr)
	if r.code != 200 || vr.Valid || len(vr.Errors) != 1 || vr.Errors[0].Path != "virtual_services[0].scheduler" {
		t.Fatalf("validate: %d %s", r.code, r.body)
	}
	if n := e.apply(0, webCfg); n != 1 {
		t.Fatalf("good config: revision %d", n)
	}
}
