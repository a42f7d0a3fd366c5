package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// User is one account as the configuration defines it.
type User struct {
	Name         string
	Role         Role
	PasswordHash string  // PHC string; empty: no password login
	Tokens       []Token // API tokens
}

// Token is an API token as stored: its name and hash (HashToken).
type Token struct {
	Name    string
	Hash    string
	Expires time.Time // zero: never
}

// Identity is who made a request.
type Identity struct {
	User string `json:"user"`
	Role Role   `json:"role"`
	// Via is how the caller was authenticated: socket, password, session or token.
	Via string `json:"via"`
	// Token names the API token used (Via "token").
	Token string `json:"token,omitempty"`
}

// Errors of Authenticate and Login.
var (
	ErrNoCredentials  = errors.New("auth: credentials required")
	ErrBadCredentials = errors.New("auth: invalid credentials")
)

// RateLimitedError is returned while a source or user has no login attempts left.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("auth: too many failed logins; retry in %s", e.RetryAfter.Round(time.Second))
}

// Options configure an Authenticator. Zero values take the defaults noted.
type Options struct {
	// Users returns the accounts (required). It is called on every authentication, so
	// it should be cheap (see UserCache).
	Users func() ([]User, error)
	Now   func() time.Time // time.Now
	Rand  io.Reader        // crypto/rand
	// SessionTTL is the lifetime of a login session (8h).
	SessionTTL time.Duration
	// Failed logins allowed per source address (/64 for IPv6) as a token bucket:
	// SourceBurst at once (10), then one per SourceEvery (6s).
	SourceBurst int
	SourceEvery time.Duration
	// The same per user name: UserBurst (5), one per UserEvery (12s).
	UserBurst int
	UserEvery time.Duration
	// KDFConcurrency bounds simultaneous password hash computations (2), which bounds
	// memory (19 MiB each with the default parameters).
	KDFConcurrency int
	Log            *slog.Logger // slog.Default()
}

// Authenticator checks credentials. It is safe for concurrent use.
type Authenticator struct {
	o        Options
	bySource *Limiter
	byUser   *Limiter
	kdf      chan struct{}

	mu       sync.Mutex
	sessions map[string]session     // by HashToken(session token)
	verified map[[32]byte]time.Time // recent successful password checks
	dummy    string                 // hash verified for unknown users, to equalise timing
}

type session struct {
	user    string
	expires time.Time
}

const (
	maxSessions    = 1024
	maxVerified    = 256
	verifiedMaxAge = 5 * time.Minute
)

// New returns an Authenticator.
func New(o Options) *Authenticator {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 8 * time.Hour
	}
	if o.SourceBurst <= 0 {
		o.SourceBurst = 10
	}
	if o.SourceEvery <= 0 {
		o.SourceEvery = 6 * time.Second
	}
	if o.UserBurst <= 0 {
		o.UserBurst = 5
	}
	if o.UserEvery <= 0 {
		o.UserEvery = 12 * time.Second
	}
	if o.KDFConcurrency <= 0 {
		o.KDFConcurrency = 2
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Authenticator{
		o:        o,
		bySource: NewLimiter(o.SourceBurst, o.SourceEvery, o.Now),
		byUser:   NewLimiter(o.UserBurst, o.UserEvery, o.Now),
		kdf:      make(chan struct{}, o.KDFConcurrency),
		sessions: map[string]session{},
		verified: map[[32]byte]time.Time{},
	}
}

// SourceKey is the rate-limiting key of an address: IPv4 addresses as they are, IPv6
// addresses by their /64.
func SourceKey(a netip.Addr) string {
	a = a.Unmap()
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// Authenticate checks an Authorization header value: `Basic ...` (user and
// password) or `Bearer TOKEN` (a session or an API token).
func (a *Authenticator) Authenticate(source netip.Addr, authorization string) (Identity, error) {
	scheme, cred, _ := strings.Cut(strings.TrimSpace(authorization), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case authorization == "":
		return Identity{}, ErrNoCredentials
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return Identity{}, fmt.Errorf("%w: malformed Basic credentials", ErrBadCredentials)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Identity{}, fmt.Errorf("%w: malformed Basic credentials", ErrBadCredentials)
		}
		return a.Password(source, user, pass)
	case strings.EqualFold(scheme, "Bearer"):
		return a.Token(source, cred)
	}
	return Identity{}, fmt.Errorf("%w: unsupported authorization scheme %q", ErrBadCredentials, scheme)
}

// Password checks a user name and password, subject to rate limiting.
func (a *Authenticator) Password(source netip.Addr, name, password string) (Identity, error) {
	src := SourceKey(source)
	if ok, wait := a.bySource.Take(src); !ok {
		return Identity{}, &RateLimitedError{RetryAfter: wait}
	}
	if ok, wait := a.byUser.Take(name); !ok {
		a.bySource.Refund(src)
		return Identity{}, &RateLimitedError{RetryAfter: wait}
	}
	users, err := a.o.Users()
	if err != nil {
		a.bySource.Refund(src)
		a.byUser.Refund(name)
		return Identity{}, fmt.Errorf("auth: users: %w", err)
	}
	var u *User
	for i := range users {
		if users[i].Name == name {
			u = &users[i]
			break
		}
	}
	if u == nil || u.PasswordHash == "" || !u.Role.Valid() {
		a.verify(a.dummyHash(), password, "") // same cost as a real check
		return Identity{}, ErrBadCredentials
	}
	if err := a.verify(u.PasswordHash, password, name); err != nil {
		if !errors.Is(err, ErrMismatch) {
			// Told to the log, not to the caller.
			a.o.Log.Warn("auth: unusable password hash; the user cannot log in with a password", "user", name, "error", err)
		}
		return Identity{}, ErrBadCredentials
	}
	a.bySource.Refund(src)
	a.byUser.Refund(name)
	return Identity{User: u.Name, Role: u.Role, Via: "password"}, nil
}

// verify runs the KDF (bounded in concurrency), remembering recent successes so that
// clients sending Basic credentials with every request do not pay it each time.
func (a *Authenticator) verify(hash, password, name string) error {
	key := sha256.Sum256([]byte(name + "\x00" + hash + "\x00" + password))
	now := a.o.Now()
	a.mu.Lock()
	at, ok := a.verified[key]
	a.mu.Unlock()
	if ok && name != "" && now.Sub(at) < verifiedMaxAge {
		return nil
	}
	a.kdf <- struct{}{}
	err := VerifyPassword(hash, password)
	<-a.kdf
	if err == nil && name != "" {
		a.mu.Lock()
		if len(a.verified) >= maxVerified {
			clear(a.verified)
		}
		a.verified[key] = now
		a.mu.Unlock()
	}
	return err
}

func (a *Authenticator) dummyHash() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dummy == "" {
		h, err := HashPassword("lvsbox-dummy-password", a.o.Rand, DefaultArgon2)
		if err != nil {
			return "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		}
		a.dummy = h
	}
	return a.dummy
}

// Token checks a bearer token: a login session or an API token of some user.
func (a *Authenticator) Token(source netip.Addr, token string) (Identity, error) {
	src := SourceKey(source)
	if ok, wait := a.bySource.Take(src); !ok {
		return Identity{}, &RateLimitedError{RetryAfter: wait}
	}
	id, err := a.token(token)
	if err == nil {
		a.bySource.Refund(src)
	}
	return id, err
}

func (a *Authenticator) token(token string) (Identity, error) {
	if token == "" {
		return Identity{}, ErrBadCredentials
	}
	users, err := a.o.Users()
	if err != nil {
		return Identity{}, fmt.Errorf("auth: users: %w", err)
	}
	if strings.HasPrefix(token, SessionTokenPrefix) {
		h := HashToken(token)
		a.mu.Lock()
		s, ok := a.sessions[h]
		if ok && !a.o.Now().Before(s.expires) {
			delete(a.sessions, h)
			ok = false
		}
		a.mu.Unlock()
		if !ok {
			return Identity{}, fmt.Errorf("%w: session expired or unknown", ErrBadCredentials)
		}
		for _, u := range users {
			if u.Name == s.user && u.Role.Valid() {
				return Identity{User: u.Name, Role: u.Role, Via: "session"}, nil
			}
		}
		return Identity{}, fmt.Errorf("%w: user %s no longer exists", ErrBadCredentials, s.user)
	}
	now := a.o.Now()
	for _, u := range users {
		for _, t := range u.Tokens {
			if !tokenMatches(t.Hash, token) || !u.Role.Valid() {
				continue
			}
			if !t.Expires.IsZero() && !now.Before(t.Expires) {
				return Identity{}, fmt.Errorf("%w: token %s of user %s expired at %s", ErrBadCredentials, t.Name, u.Name, t.Expires.UTC().Format(time.RFC3339))
			}
			return Identity{User: u.Name, Role: u.Role, Via: "token", Token: t.Name}, nil
		}
	}
	return Identity{}, ErrBadCredentials
}

// Login checks a password and opens a session; the returned token is sent back as
// `Authorization: Bearer TOKEN`.
func (a *Authenticator) Login(source netip.Addr, name, password string) (token string, expires time.Time, id Identity, err error) {
	id, err = a.Password(source, name, password)
	if err != nil {
		return "", time.Time{}, id, err
	}
	token, err = randomToken(a.o.Rand, SessionTokenPrefix)
	if err != nil {
		return "", time.Time{}, id, err
	}
	now := a.o.Now()
	expires = now.Add(a.o.SessionTTL)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sessions) >= maxSessions {
		var oldest string
		for h, s := range a.sessions {
			if !now.Before(s.expires) {
				delete(a.sessions, h)
			} else if oldest == "" || s.expires.Before(a.sessions[oldest].expires) {
				oldest = h
			}
		}
		if len(a.sessions) >= maxSessions {
			delete(a.sessions, oldest)
		}
	}
	a.sessions[HashToken(token)] = session{user: id.User, expires: expires}
	id.Via = "session"
	return token, expires, id, nil
}

// Logout ends a session; it reports whether the session existed.
func (a *Authenticator) Logout(token string) bool {
	h := HashToken(token)
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.sessions[h]
	delete(a.sessions, h)
	return ok
}
