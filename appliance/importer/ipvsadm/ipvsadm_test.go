package ipvsadm

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

func importString(t *testing.T, in string) (config.Config, []importer.Note) {
	t.Helper()
	c, notes, err := Import(strings.NewReader(in), Options{Name: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	return c, notes
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServices(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"defaults", "-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1:80\n",
			`[{"name":"tcp-192.0.2.1-80","protocol":"tcp","address":"192.0.2.1","port":80,"scheduler":"wlc","forwarding":"dr","real_servers":[{"address":"198.51.100.1","port":80,"weight":1}]}]`},
		{"long options and =", "--add-service --udp-service=192.0.2.1:53 --scheduler=rr --persistent=30 --ops\n--add-server -u 192.0.2.1:53 --real-server 198.51.100.1 --masquerading --weight=4\n",
			`[{"name":"udp-192.0.2.1-53","protocol":"udp","address":"192.0.2.1","port":53,"scheduler":"rr","persistence":{"timeout":"30s"},"one_packet":true,"forwarding":"nat","real_servers":[{"address":"198.51.100.1","port":53,"weight":4}]}]`},
		{"glued short options", "-A -t192.0.2.1:80 -srr -p\n-a -t 192.0.2.1:80 -r198.51.100.1 -m -w0\n",
			`[{"name":"tcp-192.0.2.1-80","protocol":"tcp","address":"192.0.2.1","port":80,"scheduler":"rr","persistence":{"timeout":"5m0s"},"forwarding":"nat","real_servers":[{"address":"198.51.100.1","port":80,"weight":0}]}]`},
		{"mixed forwarding keeps per-server methods", "-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m\n-a -t 192.0.2.1:80 -r 198.51.100.2:80 -g\n",
			`[{"name":"tcp-192.0.2.1-80","protocol":"tcp","address":"192.0.2.1","port":80,"scheduler":"wlc","forwarding":"nat","real_servers":[{"address":"198.51.100.1","port":80,"weight":1},{"address":"198.51.100.2","port":80,"weight":1,"forwarding":"dr"}]}]`},
		{"service names", "-A -t 192.0.2.1:https\n-a -t 192.0.2.1:https -r 198.51.100.1:http-alt -m\n",
			`[{"name":"tcp-192.0.2.1-443","protocol":"tcp","address":"192.0.2.1","port":443,"scheduler":"wlc","forwarding":"nat","real_servers":[{"address":"198.51.100.1","port":8080,"weight":1}]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, notes := importString(t, tt.in)
			if got := js(t, c.VirtualServices); got != strings.Replace(tt.want, `"5m0s"`, `"5m"`, 1) {
				t.Errorf("got  %s\nwant %s\n%s", got, tt.want, importer.Format(notes))
			}
			if err := c.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestReportedLines(t *testing.T) {
	tests := []struct {
		in, keyword, msg string
		line             int
	}{
		{"# comment\n\n-A -t lb.example.org:80\n", "-t", "host names are not resolved", 3},
		{"-A -t 192.0.2.1:nosuchservice\n", "-t", "neither a number nor a service name", 1},
		{"-A -t $VIP:80\n", "-t", "shell variable", 1},
		{"-A -t 192.0.2.1:80 --bogus\n", "--bogus", "not an ipvsadm option", 1},
		{"echo hello\n", "echo", "not an ipvsadm command", 1},
		{"-A -t 192.0.2.1:80 -t 192.0.2.2:80\n", "-A", "more than one service", 1},
		{"-A -t 192.0.2.1:80 -a\n", "-a", "a second command", 1},
		{"-a -t 192.0.2.1:80 -r 198.51.100.1\n", "-a", "there is no service", 1},
		{"-A -t [2001:db8::1:80\n", "-t", "missing ']'", 1},
		{"-A -t 192.0.2.1:80 -s\n", "-s", "needs a value", 1},
		{"-A -f 0\n", "-f", "not a firewall mark", 1},
		{"-A -t 192.0.2.1:80 --pe sip\n", "--pe", "persistence engines", 1},
	}
	for _, tt := range tests {
		_, notes := importString(t, tt.in)
		found := false
		for _, n := range notes {
			if n.Keyword == tt.keyword && n.Line == tt.line && n.File == "rules" && strings.Contains(n.Message, tt.msg) && n.Unmapped {
				found = true
			}
		}
		if !found {
			t.Errorf("%q: no unmapped note %s:%d %q:\n%s", tt.in, tt.keyword, tt.line, tt.msg, importer.Format(notes))
		}
	}
}

func TestReplay(t *testing.T) {
	c, notes := importString(t, `
ipvsadm -A -t 192.0.2.1:80 -s rr -p 60
ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.1 -w 5 -m
ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.2 -m
ipvsadm -e -t 192.0.2.1:80 -r 198.51.100.1 -m
ipvsadm -d -t 192.0.2.1:80 -r 198.51.100.2
ipvsadm -E -t 192.0.2.1:80 -s wrr
ipvsadm -A -t 192.0.2.2:80
ipvsadm -A -t 192.0.2.3:80
ipvsadm -D -t 192.0.2.2:80
ipvsadm --set 100 0 30
`)
	got := js(t, c)
	want := `{"system":{},"ipvs":{"timeouts":{"tcp":"1m40s","udp":"30s"}},"virtual_services":[{"name":"tcp-192.0.2.1-80","protocol":"tcp","address":"192.0.2.1","port":80,"scheduler":"wrr","forwarding":"nat","real_servers":[{"address":"198.51.100.1","port":80,"weight":1}]},{"name":"tcp-192.0.2.3-80","protocol":"tcp","address":"192.0.2.3","port":80,"scheduler":"wlc","forwarding":"dr"}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s\n%s", got, want, importer.Format(notes))
	}
}
