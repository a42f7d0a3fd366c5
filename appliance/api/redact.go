package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// usersKey is the configuration member holding the accounts. Only admins may change
// it, and other roles see its secrets (password and token hashes) redacted.
const usersKey = "users"

// Redacted replaces secret values in what non-admins see.
const Redacted = "(redacted)"

// redactSecrets replaces, inside v, the value of every object member whose name
// contains "hash" (password_hash, token hashes).
func redactSecrets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if strings.Contains(strings.ToLower(k), "hash") {
				x[k] = Redacted
			} else {
				x[k] = redactSecrets(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redactSecrets(x[i])
		}
	}
	return v
}

// redactConfig returns doc (a configuration as JSON) with the users' secrets redacted.
func redactConfig(doc []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	if u, ok := m[usersKey]; ok {
		m[usersKey] = redactSecrets(u)
	}
	return json.Marshal(m)
}

// redactChange hides secrets in a diff entry about users.
func redactChange(c Change) Change {
	if !strings.HasPrefix(c.Path, usersKey) {
		return c
	}
	fix := func(raw json.RawMessage) json.RawMessage {
		if raw == nil {
			return nil
		}
		if strings.Contains(strings.ToLower(c.Path[strings.LastIndexAny(c.Path, ".]")+1:]), "hash") {
			out, _ := json.Marshal(Redacted)
			return out
		}
		var v any
		if json.Unmarshal(raw, &v) != nil {
			out, _ := json.Marshal(Redacted)
			return out
		}
		out, _ := json.Marshal(redactSecrets(v))
		return out
	}
	c.Old, c.New = fix(c.Old), fix(c.New)
	return c
}

// usersOf returns the canonical JSON of the users member of a configuration document
// ("" when absent, null or empty).
func usersOf(doc []byte) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return "", err
	}
	return canonical(m[usersKey])
}

func canonical(raw json.RawMessage) (string, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "", nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	if v == nil {
		return "", nil
	}
	if a, ok := v.([]any); ok && len(a) == 0 {
		return "", nil
	}
	out, err := json.Marshal(v)
	return string(out), err
}

// keepUsers handles a non-admin's submitted document: its users must equal the current
// users, either as they are or as the redacted copy the caller was shown (then the
// current users are put back). It returns the document to decode, or ok=false when the
// users differ.
func keepUsers(submitted, current []byte) (doc []byte, ok bool, err error) {
	sub, err := usersOf(submitted)
	if err != nil {
		return nil, false, err
	}
	cur, err := usersOf(current)
	if err != nil {
		return nil, false, err
	}
	if sub == cur {
		return submitted, true, nil
	}
	red, err := redactConfig(current)
	if err != nil {
		return nil, false, err
	}
	curRedacted, err := usersOf(red)
	if err != nil || sub != curRedacted {
		return nil, false, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(submitted, &m); err != nil {
		return nil, false, err
	}
	var cm map[string]json.RawMessage
	if err := json.Unmarshal(current, &cm); err != nil {
		return nil, false, err
	}
	m[usersKey] = cm[usersKey]
	out, err := json.Marshal(m)
	return out, err == nil, err
}
