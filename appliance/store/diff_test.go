package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// web is a document with two services; edits are applied with strings.Replace.
const web = `{
  "system": {"hostname": "lb1"},
  "routes": [{"destination": "0.0.0.0/0", "gateway": "192.0.2.1"}],
  "virtual_services": [
    {"name": "web", "address": "192.0.2.100", "port": 80, "real_servers": [
      {"address": "198.51.100.11", "weight": 3},
      {"address": "198.51.100.12", "weight": 1},
      {"address": "198.51.100.13", "weight": 1}]},
    {"name": "dns", "protocol": "udp", "address": "192.0.2.100", "port": 53}
  ]
}`

func edit(doc string, pairs ...string) string {
	return strings.NewReplacer(pairs...).Replace(doc)
}

func TestDiffJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want []string // "op path old new"
	}{
		{"identical", web, web, nil},
		{"scalar", web, edit(web, `"lb1"`, `"lb2"`),
			[]string{`change system.hostname "lb1" "lb2"`}},
		{"field added and removed", web, edit(web, `"port": 53}`, `"port": 53, "scheduler": "rr"}`, `"system": {"hostname": "lb1"}`, `"system": {}`),
			[]string{`remove system.hostname "lb1" `, `add virtual_services[dns].scheduler  "rr"`}},
		{"nested weight by service name and real server index", web, edit(web, `"198.51.100.13", "weight": 1`, `"198.51.100.13", "weight": 5`),
			[]string{`change virtual_services[web].real_servers[2].weight 1 5`}},
		{"one real server removed from the middle", web, edit(web, `{"address": "198.51.100.12", "weight": 1},`, ``),
			[]string{`remove virtual_services[web].real_servers[1] {"address":"198.51.100.12","weight":1} `}},
		{"real server inserted first", web, edit(web, `"real_servers": [`, `"real_servers": [{"address": "198.51.100.10"},`),
			[]string{`add virtual_services[web].real_servers[0]  {"address":"198.51.100.10"}`}},
		{"services reordered is no change", web, reorder(web), nil},
		{"service removed and added by name", web, edit(web, `"name": "dns"`, `"name": "dns2"`),
			[]string{`remove virtual_services[dns] {"address":"192.0.2.100","name":"dns","port":53,"protocol":"udp"} `,
				`add virtual_services[dns2]  {"address":"192.0.2.100","name":"dns2","port":53,"protocol":"udp"}`}},
		{"map entries by key", edit(web, `"routes"`, `"sysctls": {"net.core.somaxconn": "4096"}, "routes"`),
			edit(web, `"routes"`, `"sysctls": {"net.core.somaxconn": "8192", "net.ipv4.vs.conntrack": "1"}, "routes"`),
			[]string{`change sysctls[net.core.somaxconn] "4096" "8192"`, `add sysctls[net.ipv4.vs.conntrack]  "1"`}},
		{"unnamed list element changed in place", web, edit(web, `"gateway": "192.0.2.1"`, `"gateway": "192.0.2.254"`),
			[]string{`change routes[0].gateway "192.0.2.1" "192.0.2.254"`}},
		{"list appears", `{"system": {}}`, `{"system": {}, "routes": []}`, []string{`add routes  []`}},
		{"from empty", `{}`, `{"system": {"hostname": "x"}}`, []string{`add system  {"hostname":"x"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changes, err := DiffJSON([]byte(tc.a), []byte(tc.b))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range changes {
				got = append(got, fmt.Sprintf("%s %s %s %s", c.Op, c.Path, c.Old, c.New))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// reorder swaps the two services of web.
func reorder(doc string) string {
	i := strings.Index(doc, `{"name": "web"`)
	j := strings.Index(doc, `{"name": "dns"`)
	k := strings.LastIndex(doc, "\n  ]")
	webSvc := strings.TrimSuffix(strings.TrimSpace(doc[i:j]), ",")
	dnsSvc := strings.TrimSpace(doc[j:k])
	return doc[:i] + dnsSvc + ",\n    " + webSvc + doc[k:]
}

func TestDiffRevisions(t *testing.T) {
	s, _ := open(t)
	apply(t, s, 0, cfg(t, web), Meta{})
	apply(t, s, 1, cfg(t, edit(web, `"weight": 3`, `"weight": 4`)), Meta{})
	d, err := s.Diff(1, 2)
	if err != nil || len(d) != 1 || d[0].Path != "virtual_services[web].real_servers[0].weight" ||
		d[0].Op != OpChange || string(d[0].Old) != "3" || string(d[0].New) != "4" {
		t.Fatalf("diff 1 2 = %+v, %v", d, err)
	}
	back, err := s.Diff(2, 1)
	if err != nil || len(back) != 1 || string(back[0].Old) != "4" {
		t.Fatalf("diff 2 1 = %+v, %v", back, err)
	}
	all, err := s.Diff(0, 2)
	if err != nil || len(all) == 0 {
		t.Fatalf("diff 0 2 = %+v, %v", all, err)
	}
	for _, c := range all {
		if c.Op != OpAdd {
			t.Fatalf("diff from the empty revision has %+v", c)
		}
	}
	if _, err := s.Diff(1, 5); !errors.Is(err, ErrNotFound) {
		t.Fatalf("diff with a missing revision: %v", err)
	}
}

func TestAlignLongLists(t *testing.T) {
	// Lists past maxAlign fall back to positions; both ways must produce a diff that
	// accounts for every element.
	n := 1200
	var a, b []any
	for i := range n {
		a = append(a, fmt.Sprint(i))
		if i%2 == 0 {
			b = append(b, fmt.Sprint(i))
		} else {
			b = append(b, fmt.Sprint("x", i))
		}
	}
	d := differ{}
	d.list("l", a, b, nil)
	if len(d.out) != n/2 {
		t.Fatalf("%d changes, want %d", len(d.out), n/2)
	}
}
