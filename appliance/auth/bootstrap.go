package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
)

// InitialAdminName is the bootstrap account's user name.
const InitialAdminName = "admin"

// InitialPasswordFile is the bootstrap password's file name in the data directory.
const InitialPasswordFile = "initial-admin-password"

// Bootstrap is the admin account that exists while the configuration has no users,
// so that the HTTPS listener is never open without authentication. Its password is
// generated once, written to Path (mode 0600) and reported to the caller once.
type Bootstrap struct {
	Path string
	Rand io.Reader // crypto/rand
	// Created is called once when a new password was generated (to log it).
	Created func(user, password, path string)

	mu       sync.Mutex
	password string
	user     *User
}

// Ensure creates the password file if it is missing (announcing the new password
// through Created) and reads it otherwise. It is cheap: the password is hashed only
// when User is first called.
func (b *Bootstrap) Ensure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err := b.ensure()
	return err
}

func (b *Bootstrap) ensure() (string, error) {
	if b.password != "" {
		return b.password, nil
	}
	pw, created, err := ensurePasswordFile(b.Path, b.Rand)
	if err != nil {
		return "", err
	}
	if created && b.Created != nil {
		b.Created(InitialAdminName, pw, b.Path)
	}
	b.password = pw
	return pw, nil
}

// User returns the bootstrap account, creating its password file if missing.
func (b *Bootstrap) User() (User, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.user != nil {
		return *b.user, nil
	}
	pw, err := b.ensure()
	if err != nil {
		return User{}, err
	}
	hash, err := HashPassword(pw, b.Rand, DefaultArgon2)
	if err != nil {
		return User{}, err
	}
	b.user = &User{Name: InitialAdminName, Role: RoleAdmin, PasswordHash: hash}
	return *b.user, nil
}

// ensurePasswordFile reads the password at path or creates it (0600, exclusive).
func ensurePasswordFile(path string, random io.Reader) (string, bool, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		pw := strings.TrimSpace(string(data))
		if pw == "" {
			return "", false, fmt.Errorf("auth: %s is empty; delete it to get a new initial password", path)
		}
		return pw, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("auth: read initial password: %w", err)
	}
	pw, err := randomPassword(random)
	if err != nil {
		return "", false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("auth: create initial password file: %w", err)
	}
	_, err = f.WriteString(pw + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", false, fmt.Errorf("auth: write initial password file: %w", err)
	}
	return pw, true, nil
}

// randomPassword returns 20 characters from an alphabet without look-alikes (~115 bits).
func randomPassword(random io.Reader) (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
	if random == nil {
		random = rand.Reader
	}
	out := make([]byte, 0, 20)
	buf := make([]byte, 1)
	for len(out) < 20 {
		if _, err := io.ReadFull(random, buf); err != nil {
			return "", fmt.Errorf("auth: random password: %w", err)
		}
		if int(buf[0]) < 256-256%len(alphabet) { // no modulo bias
			out = append(out, alphabet[int(buf[0])%len(alphabet)])
		}
	}
	return string(out), nil
}

// UserCache keeps the result of a user loader until Invalidate is called (after every
// committed configuration revision). When the loader yields no users, the bootstrap
// account (if any) is the only user.
type UserCache struct {
	Load      func() ([]User, error)
	Bootstrap *Bootstrap

	mu    sync.Mutex
	users []User
	valid bool
}

// Users returns the cached users, loading them when needed.
func (c *UserCache) Users() ([]User, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid {
		return c.users, nil
	}
	users, err := c.Load()
	if err != nil {
		return nil, err
	}
	if len(users) == 0 && c.Bootstrap != nil {
		u, err := c.Bootstrap.User()
		if err != nil {
			return nil, err
		}
		users = []User{u}
	}
	c.users, c.valid = users, true
	return users, nil
}

// EnsureBootstrap creates the bootstrap password file (cheaply, without hashing) when
// the loader yields no users, so that the initial password is announced at startup.
func (c *UserCache) EnsureBootstrap() error {
	if c.Bootstrap == nil {
		return nil
	}
	users, err := c.Load()
	if err != nil || len(users) > 0 {
		return err
	}
	return c.Bootstrap.Ensure()
}

// Invalidate makes the next Users call reload.
func (c *UserCache) Invalidate() {
	c.mu.Lock()
	c.valid = false
	c.mu.Unlock()
}
