package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/api"
	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/store"
)

func TestStoreAdapterMapsTypesAndErrors(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := storeAPI{st}
	watch, cancel := a.Watch()
	defer cancel()

	cfg, err := config.DecodeBytes([]byte(hostSafeSeed))
	if err != nil {
		t.Fatal(err)
	}
	ri, err := a.Apply(0, cfg, api.Meta{User: "alice", Comment: "one", ConfirmWithin: time.Minute})
	if err != nil || ri.Number != 1 || ri.User != "alice" || ri.ConfirmBy == nil || !ri.Pending() {
		t.Fatalf("apply: %+v %v", ri, err)
	}
	select {
	case got := <-watch:
		if got.Number != 1 || got.ConfirmBy == nil {
			t.Fatalf("watched %+v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no watch notification")
	}
	_, err = a.Apply(0, cfg, api.Meta{})
	if !errors.Is(err, api.ErrConflict) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale base: %v", err)
	}
	if _, err = a.Apply(1, cfg, api.Meta{}); !errors.Is(err, api.ErrPendingConfirm) {
		t.Fatalf("while pending: %v", err)
	}
	if err := a.Confirm(1); err != nil {
		t.Fatal(err)
	}
	if h, _ := a.History(1); h[0].ConfirmBy != nil || !h[0].Confirmed {
		t.Fatalf("after confirm: %+v", h[0])
	}
	if _, err := a.Get(42); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	cfg.VirtualServices[0].Port = 70000
	_, err = a.Apply(1, cfg, api.Meta{})
	var verrs config.Errors
	if !errors.As(err, &verrs) || !strings.Contains(err.Error(), "virtual_services[web].port") {
		t.Fatalf("invalid: %v", err)
	}
	users, err := configUsers(st)()
	if err != nil || len(users) != 0 {
		t.Fatalf("users: %v %v", users, err)
	}
	withUsers, err := config.DecodeBytes([]byte(`{"users":[{"name":"root1","role":"admin","password_hash":"$argon2id$x",
	  "tokens":[{"name":"ci","hash":"sha256:00","expires":"2030-01-01T00:00:00Z"}]},{"name":"v","role":"viewer"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(1, withUsers, api.Meta{}); err != nil {
		t.Fatal(err)
	}
	users, err = configUsers(st)()
	if err != nil || len(users) != 2 || users[0].Name != "root1" || users[0].Role != "admin" || users[0].PasswordHash != "$argon2id$x" ||
		len(users[0].Tokens) != 1 || users[0].Tokens[0].Hash != "sha256:00" || users[0].Tokens[0].Expires.Year() != 2030 || users[1].Role != "viewer" {
		t.Fatalf("users: %+v %v", users, err)
	}
}
