package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lvsbox/lvsbox/appliance/auth"
	"github.com/lvsbox/lvsbox/appliance/engine"
	"github.com/lvsbox/lvsbox/appliance/health/scheduler"
	"github.com/lvsbox/lvsbox/appliance/healthd"
	"github.com/lvsbox/lvsbox/appliance/vrrp/node"
	"github.com/lvsbox/lvsbox/appliance/vrrpd"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]json.RawMessage `json:"schemas"`
		Parameters map[string]json.RawMessage `json:"parameters"`
		Responses  map[string]json.RawMessage `json:"responses"`
	} `json:"components"`
}

type operation struct {
	Permission string `json:"x-permission"`
	Parameters []struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	return doc
}

// docPath is the OpenAPI path of a mux pattern's path.
func docPath(p string) string { return strings.TrimSuffix(p, "{$}") }

var wildcard = regexp.MustCompile(`\{([a-z]+)\}`)

// TestOpenAPIMatchesRoutes fails on any route missing from the document, any
// documented operation the router does not serve, and any permission that differs.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s := server(readyStatus())
	mux := s.SocketHandler().(*http.ServeMux)

	routes := map[string]route{}
	for _, rt := range s.routes() {
		key := rt.method + " " + docPath(rt.path)
		if _, dup := routes[key]; dup {
			t.Errorf("route %s registered twice", key)
		}
		routes[key] = rt
		// The route is really served by the router under its own pattern.
		path := wildcard.ReplaceAllString(docPath(rt.path), "7")
		if _, pat := mux.Handler(httptest.NewRequest(rt.method, path, nil)); pat != rt.pattern() {
			t.Errorf("%s %s is routed to %q, want %q", rt.method, path, pat, rt.pattern())
		}
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			rt, ok := routes[key]
			if !ok {
				t.Errorf("documented but not served: %s", key)
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			if op.Permission != rt.perm.String() {
				t.Errorf("%s: x-permission %q, route needs %q", key, op.Permission, rt.perm)
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s: no responses", key)
			}
			// Every path wildcard is declared as a path parameter.
			declared := map[string]bool{}
			for _, p := range op.Parameters {
				name, in := p.Name, p.In
				if p.Ref != "" {
					var ref struct{ Name, In string }
					json.Unmarshal(doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")], &ref)
					name, in = ref.Name, ref.In
				}
				if in == "path" {
					declared[name] = true
				}
			}
			for _, m := range wildcard.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s: path parameter %s not declared", key, m[1])
				}
				delete(declared, m[1])
			}
			if len(declared) > 0 {
				t.Errorf("%s: path parameters %v not in the path", key, declared)
			}
		}
	}
	for key := range routes {
		if !documented[key] {
			t.Errorf("served but not documented: %s", key)
		}
	}
}

// TestOpenAPIRefsResolve checks every $ref points at a component.
func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	refs := regexp.MustCompile(`"\$ref":\s*"#/components/(schemas|parameters|responses)/([A-Za-z]+)"`).FindAllStringSubmatch(string(OpenAPI), -1)
	if len(refs) < 20 {
		t.Fatalf("only %d refs found", len(refs))
	}
	for _, m := range refs {
		var ok bool
		switch m[1] {
		case "schemas":
			_, ok = doc.Components.Schemas[m[2]]
		case "parameters":
			_, ok = doc.Components.Parameters[m[2]]
		case "responses":
			_, ok = doc.Components.Responses[m[2]]
		}
		if !ok {
			t.Errorf("dangling $ref %s/%s", m[1], m[2])
		}
	}
}

// jsonFields lists the JSON member names of a struct type (following embedded structs).
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			out = append(out, jsonFields(ft)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPISchemasMatchTypes keeps the schemas' properties equal to the Go types'
// JSON fields.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	types := map[string]reflect.Type{
		"Problem":           reflect.TypeFor[Problem](),
		"Error":             reflect.TypeFor[ErrorBody](),
		"RevisionInfo":      reflect.TypeFor[RevisionInfo](),
		"ConfigResponse":    reflect.TypeFor[ConfigResponse](),
		"ApplyRequest":      reflect.TypeFor[ApplyRequest](),
		"CommitResponse":    reflect.TypeFor[CommitResponse](),
		"ValidateRequest":   reflect.TypeFor[ValidateRequest](),
		"ValidateResponse":  reflect.TypeFor[ValidateResponse](),
		"RevisionsResponse": reflect.TypeFor[RevisionsResponse](),
		"Change":            reflect.TypeFor[Change](),
		"DiffResponse":      reflect.TypeFor[DiffResponse](),
		"RollbackRequest":   reflect.TypeFor[RollbackRequest](),
		"LoginRequest":      reflect.TypeFor[LoginRequest](),
		"LoginResponse":     reflect.TypeFor[LoginResponse](),
		"Identity":          reflect.TypeFor[auth.Identity](),
		"Status":            reflect.TypeFor[Document](),
		"IPVSStatus":        reflect.TypeFor[engine.IPVSStatus](),
		"IPVSService":       reflect.TypeFor[engine.ServiceStatus](),
		"IPVSRealServer":    reflect.TypeFor[engine.DestinationStatus](),
		"IPVSStats":         reflect.TypeFor[engine.Stats](),
		"IPVSGlobals":       reflect.TypeFor[engine.GlobalsStatus](),
		"NICStatus":         reflect.TypeFor[engine.NICStatus](),
		"SysctlStatus":      reflect.TypeFor[engine.SysctlStatus](),
		"StateEvent":        reflect.TypeFor[StateEvent](),
		"ConfirmEvent":      reflect.TypeFor[ConfirmEvent](),
		"HealthStatus":      reflect.TypeFor[healthd.Status](),
		"HealthService":     reflect.TypeFor[healthd.ServiceStatus](),
		"HealthRealServer":  reflect.TypeFor[healthd.RealServerStatus](),
		"HealthCheckState":  reflect.TypeFor[scheduler.ServerView](),
		"HealthEvent":       reflect.TypeFor[healthd.Event](),
		"VRRPStatus":        reflect.TypeFor[vrrpd.Status](),
		"VRRPInstance":      reflect.TypeFor[vrrpd.InstanceStatus](),
		"VRRPTransition":    reflect.TypeFor[node.TransitionRecord](),
		"VRRPEvent":         reflect.TypeFor[node.Event](),
	}
	for name, typ := range types {
		raw, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s missing", name)
			continue
		}
		var sch struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		json.Unmarshal(raw, &sch)
		var props []string
		for p := range sch.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		if want := jsonFields(typ); !slices.Equal(props, want) {
			t.Errorf("schema %s has %v, type %s has %v", name, props, typ, want)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/openapi.json", "", nil)
	if r.code != 200 || string(r.body) != string(OpenAPI) {
		t.Fatalf("openapi.json: %d", r.code)
	}
}
