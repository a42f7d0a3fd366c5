package config

import (
	"encoding"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const referenceDoc = "../../docs/config-reference.md"

// isLeaf reports whether a struct type is written as one JSON string.
func isLeaf(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// docField is one field of the model as the reference must show it.
type docField struct {
	path string // `virtual_services[].real_servers[].weight`
	typ  string // the start of the type column: "integer", "list of objects", ...
	// sameAs names the path where a struct type used in several places is documented
	// (its fields are listed only there).
	sameAs string
}

// modelFields lists every field reachable from Config, lists written as `name[]`.
// A struct type reached a second time is not descended into again: its row must
// point at the first place instead.
func modelFields() []docField {
	var out []docField
	first := map[reflect.Type]string{}
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := JSONName(f)
			if !f.IsExported() || name == "-" {
				continue
			}
			p := join(prefix, name)
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			df := docField{path: p, typ: typeName(ft)}
			inner, sub := ft, p
			if ft.Kind() == reflect.Slice {
				inner, sub = ft.Elem(), p+"[]"
			}
			if inner.Kind() == reflect.Struct && !isLeaf(inner) {
				if prev, seen := first[inner]; seen {
					df.sameAs = prev
					out = append(out, df)
					continue
				}
				first[inner] = sub
				out = append(out, df)
				walk(sub, inner)
				continue
			}
			out = append(out, df)
		}
	}
	walk("", reflect.TypeFor[Config]())
	return out
}

// typeName is how the reference names a Go type.
func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Duration]():
		return "duration"
	case reflect.TypeFor[netip.Addr]():
		return "IP address"
	case reflect.TypeFor[netip.Prefix]():
		return "CIDR"
	case reflect.TypeFor[time.Time]():
		return "time"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.Slice:
		if e := t.Elem(); e.Kind() == reflect.Struct && !isLeaf(e) {
			return "list of objects"
		}
		return "list of " + plural(typeName(t.Elem()))
	case reflect.Map:
		return "map of " + plural(typeName(t.Elem()))
	case reflect.Struct:
		return "object"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int64, reflect.Uint32:
		return "integer"
	}
	panic(fmt.Sprintf("no reference name for %s", t))
}

func plural(s string) string {
	if strings.HasSuffix(s, "s") {
		return s + "es"
	}
	return s + "s"
}

var rowRE = regexp.MustCompile("(?m)^\\|\\s*`([a-z_\\[\\].]+)`\\s*\\|([^|]*)\\|([^|]*)\\|")

// TestReferenceDocCoversModel keeps docs/config-reference.md and the model in step:
// every JSON field has a row with the right type, and every row is a JSON field.
func TestReferenceDocCoversModel(t *testing.T) {
	data, err := os.ReadFile(referenceDoc)
	if err != nil {
		t.Fatalf("read reference: %v", err)
	}
	type row struct{ typ, def string }
	rows := map[string]row{}
	for _, m := range rowRE.FindAllStringSubmatch(string(data), -1) {
		if _, dup := rows[m[1]]; dup {
			t.Errorf("%s: two rows", m[1])
		}
		rows[m[1]] = row{strings.TrimSpace(m[2]), strings.TrimSpace(m[3])}
	}
	model := modelFields()
	if len(model) < 150 {
		t.Fatalf("reflection found only %d fields", len(model))
	}
	known := map[string]bool{}
	for _, f := range model {
		known[f.path] = true
		r, ok := rows[f.path]
		switch {
		case !ok:
			t.Errorf("%s: field of the model has no row in %s", f.path, referenceDoc)
		case !strings.HasPrefix(r.typ, f.typ):
			t.Errorf("%s: type column %q, want it to start with %q", f.path, r.typ, f.typ)
		case f.sameAs != "" && !strings.Contains(r.typ, "`"+f.sameAs+"`"):
			t.Errorf("%s: type column %q must say it is documented at `%s`", f.path, r.typ, f.sameAs)
		case r.def == "":
			t.Errorf("%s: empty default column", f.path)
		}
	}
	for p := range rows {
		if !known[p] {
			t.Errorf("%s: row in %s is not a field of the model", p, referenceDoc)
		}
	}
	// The defaults the doc states must be the ones the code applies.
	for path, def := range map[string]string{
		"virtual_services[].protocol":                        string(DefaultProtocol),
		"virtual_services[].scheduler":                       DefaultScheduler,
		"virtual_services[].forwarding":                      string(DefaultForwarding),
		"virtual_services[].real_servers[].weight":           fmt.Sprint(DefaultWeight),
		"virtual_services[].real_servers[].admin_state":      string(DefaultAdminState),
		"virtual_services[].family":                          string(DefaultFwmarkFamily),
		"virtual_services[].tunnel.type":                     string(DefaultTunnelType),
		"virtual_services[].quorum.minimum_weight":           fmt.Sprint(DefaultQuorumMinWeight),
		"virtual_services[].health_check.interval":           DefaultCheckInterval.String(),
		"virtual_services[].health_check.timeout":            DefaultCheckTimeout.String(),
		"virtual_services[].health_check.rise":               fmt.Sprint(DefaultCheckRise),
		"virtual_services[].health_check.fall":               fmt.Sprint(DefaultCheckFall),
		"virtual_services[].health_check.retry_delay":        DefaultCheckRetryDelay.String(),
		"virtual_services[].health_check.on_failure":         string(DefaultOnFailure),
		"virtual_services[].health_check.http.method":        DefaultHTTPMethod,
		"virtual_services[].health_check.http.path":          DefaultHTTPPath,
		"virtual_services[].health_check.http.expect_status": DefaultHTTPStatus,
		"virtual_services[].health_check.dns.type":           DefaultDNSType,
		"virtual_services[].health_check.dns.expect_rcode":   DefaultDNSRcode,
		"virtual_services[].persistence.netmask":             DefaultPersistMask4.String(),
		"virtual_services[].persistence.prefix_length":       fmt.Sprint(DefaultPersistPrefix6),
		"interfaces[].role":                                  string(DefaultRole),
		"interfaces[].bond.mode":                             DefaultBondMode,
		"interfaces[].bond.miimon":                           DefaultMIIMon.String(),
		"system.time_zone":                                   DefaultTimeZone,
		"system.syslog.port":                                 fmt.Sprint(DefaultSyslogPort),
		"routes[].table":                                     fmt.Sprint(TableMain),
		"ipvs.timeouts.tcp":                                  DefaultTCPTimeout.String(),
		"ipvs.timeouts.tcp_fin":                              DefaultTCPFinTimeout.String(),
		"ipvs.timeouts.udp":                                  DefaultUDPTimeout.String(),
		"ipvs.drain_time":                                    DefaultDrainTime.String(),
		"ipvs.sync_daemon.multicast_group":                   DefaultSyncGroup.String(),
		"ipvs.sync_daemon.port":                              fmt.Sprint(DefaultSyncPort),
		"ipvs.sync_daemon.ttl":                               fmt.Sprint(DefaultSyncTTL),
		"vrrp_instances[].version":                           fmt.Sprint(DefaultVRRPVersion),
		"vrrp_instances[].priority":                          fmt.Sprint(DefaultPriority),
		"vrrp_instances[].advert_interval":                   DefaultAdvertInterval.String(),
		"vrrp_instances[].initial_state":                     string(DefaultInitialState),
		"vrrp_instances[].garp.count":                        fmt.Sprint(DefaultGARPCount),
		"vrrp_instances[].garp.interval":                     DefaultGARPInterval.String(),
	} {
		if r := rows[path]; !strings.Contains(r.def, "`"+def+"`") {
			t.Errorf("%s: default column %q does not say `%s`", path, r.def, def)
		}
	}
}
