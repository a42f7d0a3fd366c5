package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/lvsbox/lvsbox/appliance/api"
	"github.com/lvsbox/lvsbox/appliance/auth"
)

func (x *cmd) whoami(ctx context.Context, args []string) error {
	if _, err := parse(x.flags("whoami"), args, 0, 0); err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	var id auth.Identity
	data, err := c.get(ctx, "/api/v1/whoami", &id)
	if err != nil {
		return err
	}
	if x.g.json {
		x.printJSON(data)
		return nil
	}
	via := id.Via
	if id.Token != "" {
		via += " " + id.Token
	}
	fmt.Fprintf(x.env.Stdout, "%s (role %s, via %s)\n", id.User, id.Role, via)
	return nil
}

func (x *cmd) login(ctx context.Context, args []string) error {
	if _, err := parse(x.flags("login"), args, 0, 0); err != nil {
		return err
	}
	if x.g.url == "" || x.g.user == "" {
		return usageErrorf("login: needs --url and --user")
	}
	pw := x.env.Getenv("LVSBOX_PASSWORD")
	if pw == "" {
		var err error
		if pw, err = x.readPassword("Password for " + x.g.user + ": "); err != nil {
			return err
		}
	}
	user := x.g.user
	x.g.user, x.g.token = "", "" // the login request itself carries no credentials
	c, err := x.client()
	if err != nil {
		return err
	}
	out, err := c.do(ctx, http.MethodPost, "/api/v1/login", api.LoginRequest{Username: user, Password: pw})
	if err != nil {
		return err
	}
	if x.g.json {
		x.printJSON(out)
		return nil
	}
	var lr api.LoginResponse
	if err := json.Unmarshal(out, &lr); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	fmt.Fprintln(x.env.Stdout, lr.Token)
	fmt.Fprintf(x.env.Stderr, "session for %s (role %s) until %s\n", lr.User, lr.Role, lr.Expires.UTC().Format(timeFormat))
	return nil
}

func (x *cmd) hashPassword(_ context.Context, args []string) error {
	if _, err := parse(x.flags("hash-password"), args, 0, 0); err != nil {
		return err
	}
	pw, err := x.readPassword("Password: ")
	if err != nil {
		return err
	}
	if x.env.ReadPassword != nil {
		again, err := x.env.ReadPassword("Again: ")
		if err != nil {
			return err
		}
		if again != pw {
			return fmt.Errorf("the passwords differ")
		}
	}
	if pw == "" {
		return usageErrorf("hash-password: empty password")
	}
	h, err := auth.HashPassword(pw, nil, auth.DefaultArgon2)
	if err != nil {
		return err
	}
	fmt.Fprintln(x.env.Stdout, h)
	return nil
}

// TokenEntry is what `lvsbox token new --json` prints (users[].tokens[] plus the token).
type TokenEntry struct {
	Token   string    `json:"token"`
	Name    string    `json:"name"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
}

func (x *cmd) tokenNew(_ context.Context, args []string) error {
	pos, err := parse(x.flags("token new"), args, 1, 1)
	if err != nil {
		return err
	}
	tok, hash, err := auth.NewToken(nil)
	if err != nil {
		return err
	}
	e := TokenEntry{Token: tok, Name: pos[0], Hash: hash, Created: x.env.Now().UTC().Truncate(time.Second)}
	if x.g.json {
		out, _ := json.MarshalIndent(e, "", "  ")
		x.printJSON(out)
		return nil
	}
	entry, _ := json.Marshal(struct {
		Name    string    `json:"name"`
		Hash    string    `json:"hash"`
		Created time.Time `json:"created"`
	}{e.Name, e.Hash, e.Created})
	fmt.Fprintf(x.env.Stdout, "token: %s\n(shown once; keep it secret)\nadd to the user's \"tokens\": %s\n", tok, entry)
	return nil
}
