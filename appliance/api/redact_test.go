package api

import (
	"encoding/json"
	"strings"
	"testing"
)

const withUsers = `{"system":{"hostname":"lb1"},"users":[
 {"name":"alice","role":"admin","password_hash":"$argon2id$secret","tokens":[{"name":"ci","hash":"$sha256$tok"}]},
 {"name":"vic","role":"viewer","password_hash":"$argon2id$other"}]}`

func TestRedactConfig(t *testing.T) {
	out, err := redactConfig([]byte(withUsers))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "secret") || strings.Contains(s, "$sha256$tok") || strings.Contains(s, "other") ||
		strings.Count(s, Redacted) != 3 || !strings.Contains(s, `"name":"ci"`) || !strings.Contains(s, `"hostname":"lb1"`) {
		t.Fatalf("redacted: %s", s)
	}
	if out, _ := redactConfig([]byte(`{"system":{}}`)); string(out) != `{"system":{}}` {
		t.Fatalf("no users: %s", out)
	}
}

func TestKeepUsers(t *testing.T) {
	cur := []byte(withUsers)
	red, _ := redactConfig(cur)

	// Unchanged users (as they are): accepted as is.
	sub := []byte(strings.Replace(withUsers, "lb1", "lb2", 1))
	doc, ok, err := keepUsers(sub, cur)
	if err != nil || !ok || string(doc) != string(sub) {
		t.Fatalf("same users: %v %v", ok, err)
	}
	// The redacted copy sent back: the real hashes are restored.
	sub = []byte(strings.Replace(string(red), "lb1", "lb2", 1))
	doc, ok, err = keepUsers(sub, cur)
	if err != nil || !ok || !strings.Contains(string(doc), "$argon2id$secret") || !strings.Contains(string(doc), "lb2") || strings.Contains(string(doc), Redacted) {
		t.Fatalf("redacted copy: %v %v %s", ok, err, doc)
	}
	// A changed role, an added user, removed users: refused.
	for _, changed := range []string{
		strings.Replace(string(red), `"role":"viewer"`, `"role":"admin"`, 1),
		strings.Replace(withUsers, `"role":"viewer"`, `"role":"admin"`, 1),
		`{"system":{}}`,
		`{"users":[]}`,
	} {
		if _, ok, err := keepUsers([]byte(changed), cur); ok || err != nil {
			t.Errorf("accepted (%v): %s", err, changed)
		}
	}
	// No users before and none after (absent, null or empty): fine.
	for _, sub := range []string{`{}`, `{"users":null}`, `{"users":[]}`} {
		if _, ok, err := keepUsers([]byte(sub), []byte(`{"system":{}}`)); !ok || err != nil {
			t.Errorf("%s: %v %v", sub, ok, err)
		}
	}
}

func TestRedactChange(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	c := redactChange(Change{Path: "users[alice].password_hash", Op: "change", Old: raw(`"$argon2id$a"`), New: raw(`"$argon2id$b"`)})
	if string(c.Old) != `"(redacted)"` || string(c.New) != `"(redacted)"` {
		t.Fatalf("hash change: %+v", c)
	}
	c = redactChange(Change{Path: "users[bob]", Op: "add", New: raw(`{"name":"bob","password_hash":"$x"}`)})
	if strings.Contains(string(c.New), "$x") || !strings.Contains(string(c.New), "bob") || c.Old != nil {
		t.Fatalf("user added: %+v", c)
	}
	c = redactChange(Change{Path: "virtual_services[web].port", Op: "change", Old: raw("80"), New: raw("81")})
	if string(c.New) != "81" {
		t.Fatalf("other change touched: %+v", c)
	}
}
