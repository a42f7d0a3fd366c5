package keepalived

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

func importString(t *testing.T, in string) (config.Config, []importer.Note) {
	t.Helper()
	c, notes, err := ImportFS(MapFS{"k.conf": in}, "k.conf", Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c, notes
}

// js renders a value as compact JSON for comparisons.
func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const vipBlock = "virtual_ipaddress {\n192.0.2.10\n}\n"

func TestVRRPKeepalivedDefaults(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // JSON of selected fields
		note     string // a note containing this (optional)
	}{
		{"backup by default, version 2, accept on", "vrrp_instance v {\ninterface eth0\nvirtual_router_id 1\n" + vipBlock + "}",
			`{"version":2,"priority":100,"initial_state":"","preempt":null,"accept":true}`, "accept mode on"},
		{"state MASTER without priority is the owner", "vrrp_instance v {\ninterface eth0\nstate MASTER\nvirtual_router_id 1\n" + vipBlock + "}",
			`{"version":2,"priority":255,"initial_state":"master","preempt":null,"accept":true}`, "address owner (priority 255)"},
		{"global vrrp_version and strict mode", "global_defs {\nvrrp_version 3\nvrrp_strict\n}\nvrrp_instance v {\ninterface eth0\nvirtual_router_id 1\npriority 50\n" + vipBlock + "}",
			`{"version":3,"priority":50,"initial_state":"","preempt":null,"accept":false}`, "strict mode"},
		{"IPv6 means version 3", "vrrp_instance v {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {\n2001:db8::1\n}\n}",
			`{"version":3,"priority":100,"initial_state":"","preempt":null,"accept":true}`, ""},
		{"nopreempt with MASTER is cleared", "vrrp_instance v {\ninterface eth0\nstate MASTER\npriority 200\nnopreempt\nvirtual_router_id 1\n" + vipBlock + "}",
			`{"version":2,"priority":200,"initial_state":"master","preempt":null,"accept":true}`, "nopreempt does not work with state MASTER"},
		{"nopreempt", "vrrp_instance v {\ninterface eth0\nnopreempt\nno_accept\nvirtual_router_id 1\n" + vipBlock + "}",
			`{"version":2,"priority":100,"initial_state":"","preempt":false,"accept":false}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, notes := importString(t, tt.in)
			if len(c.VRRPInstances) != 1 {
				t.Fatalf("instances: %s\n%s", js(t, c.VRRPInstances), importer.Format(notes))
			}
			in := c.VRRPInstances[0]
			got := js(t, struct {
				Version      int                 `json:"version"`
				Priority     int                 `json:"priority"`
				InitialState config.InitialState `json:"initial_state"`
				Preempt      *bool               `json:"preempt"`
				Accept       bool                `json:"accept"`
			}{in.Version, in.Priority, in.InitialState, in.Preempt, in.Accept})
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if tt.note != "" && !anyNote(notes, tt.note) {
				t.Errorf("no note containing %q:\n%s", tt.note, importer.Format(notes))
			}
		})
	}
}

func anyNote(notes []importer.Note, substr string) bool {
	for _, n := range notes {
		if strings.Contains(n.Message, substr) {
			return true
		}
	}
	return false
}

func TestVRRPDetails(t *testing.T) {
	c, notes := importString(t, `
vrrp_script s1 {
    script "/bin/check one"
    weight -10
}
vrrp_instance v {
    interface eth0
    virtual_router_id 7
    advert_int 2
    authentication {
        auth_type PASS
        auth_pass 123456789
    }
    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.2
    }
    virtual_ipaddress {
        192.0.2.10/24 dev eth1
    }
    track_interface {
        eth2 weight -20
    }
    track_script {
        s1
    }
    use_vmac
}
vrrp_instance w {
    interface eth0
    virtual_router_id 8
    version 3
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        192.0.2.11
    }
}
vrrp_sync_group g {
    group {
        v
        w
    }
    track_script {
        s1 weight 3
    }
}`)
	v, w := c.VRRPInstances[0], c.VRRPInstances[1]
	want := `{"name":"v","interface":"eth0","vrid":7,"version":2,"priority":100,"advert_interval":"2s","accept":true,"unicast":true,"unicast_source":"192.0.2.1","unicast_peers":["192.0.2.2"],"virtual_addresses":[{"address":"192.0.2.10/24","device":"eth1"}],"track_interfaces":[{"interface":"eth2","weight":-20}],"track_scripts":[{"script":"s1","weight":-10}],"auth_pass":"12345678","vmac":true}`
	if got := js(t, v); got != want {
		t.Errorf("instance v:\n got %s\nwant %s", got, want)
	}
	if w.AuthPass != "" || !anyNote(notes, "VRRP version 3 has no authentication") {
		t.Errorf("v3 authentication kept: %q", w.AuthPass)
	}
	if got := js(t, w.TrackScripts); got != `[{"script":"s1","weight":3}]` {
		t.Errorf("sync group tracking not copied into w: %s", got)
	}
	if got := js(t, c.VRRPSyncGroups); got != `[{"name":"g","members":["v","w"]}]` {
		t.Errorf("sync groups %s", got)
	}
	if got := js(t, c.VRRPScripts); got != `[{"name":"s1","path":"/bin/check","args":["one"]}]` {
		t.Errorf("scripts %s", got)
	}
	var names []string
	for _, in := range c.Interfaces {
		names = append(names, in.Name+"/"+string(in.Role))
	}
	if got := strings.Join(names, " "); got != "eth0/data eth2/data eth1/data" {
		t.Errorf("interfaces %s", got)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("validate: %v\n%s", err, importer.Format(notes))
	}
}

func TestVirtualServerDefaultsAndCorrections(t *testing.T) {
	c, notes := importString(t, `
virtual_server 192.0.2.1 80 {
    lb_kind DR
    real_server 198.51.100.1 8080 {
        TCP_CHECK {
        }
    }
    real_server 198.51.100.2 80 {
        TCP_CHECK {
        }
    }
    real_server 198.51.100.2 80 {
    }
}
virtual_server 192.0.2.2 80 {
    real_server 198.51.100.3 80 {
        weight 2
        HTTP_GET {
            url {
                path /a
            }
        }
    }
    real_server 198.51.100.4 80 {
    }
}
virtual_server fwmark 5 {
    lb_kind DR
    real_server 198.51.100.5 80 {
    }
}
virtual_server 192.0.2.3 80 {
}`)
	if len(c.VirtualServices) != 3 {
		t.Fatalf("services: %s", js(t, c.VirtualServices))
	}
	dr, nat, fw := c.VirtualServices[0], c.VirtualServices[1], c.VirtualServices[2]
	want := `{"name":"tcp-192.0.2.1-80","protocol":"tcp","address":"192.0.2.1","port":80,"scheduler":"wlc","forwarding":"dr","health_check":{"type":"tcp","interval":"1m","timeout":"5s","rise":1,"fall":1,"retries":1,"retry_delay":"1s"},"real_servers":[{"address":"198.51.100.1","weight":1},{"address":"198.51.100.2","port":80,"weight":1}]}`
	if got := js(t, dr); got != want {
		t.Errorf("DR service:\n got %s\nwant %s", got, want)
	}
	for _, s := range []string{"DR forwarding cannot change the port", "listed twice", "keepalived forwards with NAT", "has no (usable) real servers"} {
		if !anyNote(notes, s) {
			t.Errorf("no note %q:\n%s", s, importer.Format(notes))
		}
	}
	if nat.Forwarding != config.ForwardingNAT || nat.Scheduler != "wlc" || nat.HealthCheck != nil {
		t.Errorf("NAT service: %s", js(t, nat))
	}
	if hc := nat.RealServers[0].HealthCheck; hc == nil || hc.Type != config.CheckHTTP || hc.RetryDelay != config.Duration(3e9) || nat.RealServers[1].HealthCheck != nil {
		t.Errorf("per-server checks: %s", js(t, nat.RealServers))
	}
	if fw.Fwmark != 5 || fw.RealServers[0].Port != 0 || fw.Protocol != "" {
		t.Errorf("fwmark service: %s", js(t, fw))
	}
	if err := c.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
}

func TestVirtualServerGroupRanges(t *testing.T) {
	c, _ := importString(t, `
virtual_server_group g {
    192.0.2.1-3 80
    2001:db8::a-c 80
    fwmark 3
}
virtual_server group g {
    lb_kind NAT
    real_server 198.51.100.1 80 {
    }
    real_server 2001:db8:1::1 80 {
    }
}`)
	var names []string
	for _, vs := range c.VirtualServices {
		names = append(names, vs.Name)
	}
	want := "tcp-192.0.2.1-80 tcp-192.0.2.2-80 tcp-192.0.2.3-80 tcp-2001_db8__a-80 tcp-2001_db8__b-80 tcp-2001_db8__c-80 fwmark-3"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("services %s\nwant %s", got, want)
	}
	if got := c.VirtualServices[4].RealServers; len(got) != 1 || got[0].Address.String() != "2001:db8:1::1" {
		t.Errorf("IPv6 service real servers %s", js(t, got))
	}
}

func TestCheckers(t *testing.T) {
	checks := map[string]string{
		"DNS_CHECK {\nname example.org\n}":                       `{"type":"dns","interval":"1m","timeout":"5s","rise":1,"fall":1,"retries":3,"retry_delay":"1m","dns":{"name":"example.org","type":"SOA"}}`,
		"MISC_CHECK {\nmisc_path \"/bin/t -x\"\nmisc_dynamic\n}": `{"type":"script","interval":"1m","rise":1,"fall":1,"script":{"path":"/bin/t","args":["-x"],"timeout":"1m","dynamic_weight":true}}`,
		"PING_CHECK {\n}": `{"type":"icmp","interval":"1m","timeout":"5s","rise":1,"fall":1,"retries":1,"retry_delay":"1s"}`,
		"UDP_CHECK {\npayload 0a 0B\nrequire_reply 0c\n}": `{"type":"udp","interval":"1m","timeout":"5s","rise":1,"fall":1,"retries":1,"retry_delay":"1s","udp":{"payload_hex":"0a0b","expect_hex":"0c"}}`,
		"SSL_GET {\nurl {\npath /x\nstatus_code 200-299 301\n}\nvirtualhost a.example\nenable_sni\nconnect_port 8443\nbindto 192.0.2.9\n}": `{"type":"https","interval":"1m","timeout":"5s","rise":1,"fall":1,"retries":1,"retry_delay":"3s","target_port":8443,"source_address":"192.0.2.9","http":{"path":"/x","host":"a.example","expect_status":["200-299","301"],"sni":"a.example"}}`,
		"SMTP_CHECK {\nhelo_name mx.example\nhost {\nconnect_ip 198.51.100.9\nconnect_port 587\n}\n}":                                      `{"type":"smtp","interval":"1m","timeout":"5s","rise":1,"fall":1,"retries":1,"retry_delay":"1s","target_address":"198.51.100.9","target_port":587,"smtp":{"helo_name":"mx.example"}}`,
	}
	for check, want := range checks {
		c, notes := importString(t, "virtual_server 192.0.2.1 53 {\nprotocol UDP\ndelay_loop 60\nreal_server 198.51.100.1 53 {\ninhibit_on_failure\n"+check+"\n}\n}")
		if len(c.VirtualServices) != 1 || c.VirtualServices[0].HealthCheck == nil {
			t.Errorf("%s: no check:\n%s", check, importer.Format(notes))
			continue
		}
		hc := *c.VirtualServices[0].HealthCheck
		if hc.OnFailure != config.OnFailureQuiesce {
			t.Errorf("%s: inhibit_on_failure not mapped", check)
		}
		hc.OnFailure = ""
		if got := js(t, hc); got != want {
			t.Errorf("%s:\n got %s\nwant %s", strings.SplitN(check, " ", 2)[0], got, want)
		}
	}
}

func TestEveryUnknownKeywordIsReported(t *testing.T) {
	blocks := []string{
		"frobnicate 1",
		"global_defs {\nfrobnicate 1\n}",
		"vrrp_instance v {\nfrobnicate 1\ninterface eth0\nvirtual_router_id 1\n" + vipBlock + "}",
		"vrrp_script s {\nscript /bin/x\nfrobnicate 1\n}",
		"vrrp_instance v {\ninterface eth0\nvirtual_router_id 1\n" + vipBlock + "}\nvrrp_sync_group g {\ngroup {\nv\n}\nfrobnicate 1\n}",
		"virtual_server 192.0.2.1 80 {\nfrobnicate 1\nreal_server 198.51.100.1 80 {\n}\n}",
		"virtual_server 192.0.2.1 80 {\nreal_server 198.51.100.1 80 {\nfrobnicate 1\n}\n}",
		"virtual_server 192.0.2.1 80 {\nreal_server 198.51.100.1 80 {\nTCP_CHECK {\nfrobnicate 1\n}\n}\n}",
		"virtual_server 192.0.2.1 80 {\nreal_server 198.51.100.1 80 {\nHTTP_GET {\nurl {\nfrobnicate 1\n}\n}\n}\n}",
	}
	for _, in := range blocks {
		_, notes := importString(t, in)
		found := false
		for _, n := range notes {
			if n.Keyword == "frobnicate" && n.Unmapped && n.Line > 0 && n.File == "k.conf" {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: frobnicate not reported:\n%s", in, importer.Format(notes))
		}
	}
}

func TestUnusedCheckerSettings(t *testing.T) {
	_, notes := importString(t, `
virtual_server 192.0.2.1 80 {
    delay_loop 5
    virtualhost www.example.org
    real_server 198.51.100.1 80 {
        connect_timeout 3
        TCP_CHECK {
        }
    }
    real_server 198.51.100.2 80 {
        retry 4
    }
}`)
	want := map[string]string{
		"virtualhost": "only HTTP_GET and SSL_GET",
		"retry":       "no checker uses it",
	}
	for kw, msg := range want {
		found := false
		for _, n := range notes {
			found = found || n.Keyword == kw && n.Unmapped && strings.Contains(n.Message, msg)
		}
		if !found {
			t.Errorf("%s not reported as unused:\n%s", kw, importer.Format(notes))
		}
	}
	for _, n := range notes {
		if n.Keyword == "delay_loop" || n.Keyword == "connect_timeout" {
			t.Errorf("%s is used, but reported: %v", n.Keyword, n)
		}
	}
}
