package auth

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// cheap keeps tests fast; the format and code path are the production ones.
var cheap = Argon2Params{Memory: 64, Time: 1, Threads: 1}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := HashPassword(pw, nil, cheap)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h := mustHash(t, "s3cret")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if err := VerifyPassword(h, "s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := VerifyPassword(h, "s3creT"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	if h2 := mustHash(t, "s3cret"); h2 == h {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	if err := CheckHash(h); err != nil {
		t.Fatal(err)
	}
	def, err := HashPassword("x", nil, DefaultArgon2)
	if err != nil || !strings.HasPrefix(def, "$argon2id$v=19$m=19456,t=2,p=1$") || VerifyPassword(def, "x") != nil {
		t.Fatalf("default params: %q %v", def, err)
	}
	if _, err := HashPassword("", nil, cheap); err == nil {
		t.Fatal("empty password hashed")
	}
}

func TestBcryptAccepted(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyPassword(string(b), "pw"); err != nil {
		t.Fatal(err)
	}
	if err := VerifyPassword(string(b), "nope"); !errors.Is(err, ErrMismatch) {
		t.Fatal(err)
	}
	if err := CheckHash(string(b)); err != nil {
		t.Fatal(err)
	}
}

func TestBadHashes(t *testing.T) {
	for _, h := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // 4 GiB
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2hvcnQ",
		"$2b$04$short",
	} {
		if err := CheckHash(h); err == nil {
			t.Errorf("CheckHash(%q) = nil", h)
		}
		if err := VerifyPassword(h, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("VerifyPassword(%q) = %v", h, err)
		}
	}
}

func TestTokens(t *testing.T) {
	tok, hash, err := NewToken(nil)
	if err != nil || !strings.HasPrefix(tok, APITokenPrefix) || len(tok) < 40 {
		t.Fatalf("token %q %v", tok, err)
	}
	if hash != HashToken(tok) || CheckTokenHash(hash) != nil || !tokenMatches(hash, tok) || tokenMatches(hash, tok+"x") {
		t.Fatalf("hash %q", hash)
	}
	if CheckTokenHash(strings.ToUpper(hash[:7])+hash[7:]) == nil || !tokenMatches("sha256:"+strings.ToUpper(hash[7:]), tok) {
		t.Fatal("case handling")
	}
	for _, bad := range []string{"", "sha256:abc", "$sha256$abc", "sha256:" + strings.Repeat("g", 64)} {
		if CheckTokenHash(bad) == nil {
			t.Errorf("CheckTokenHash(%q) = nil", bad)
		}
	}
}

func TestRoles(t *testing.T) {
	cases := []struct {
		r                       Role
		read, operate, admin, v bool
	}{
		{RoleAdmin, true, true, true, true},
		{RoleOperator, true, true, false, true},
		{RoleViewer, true, false, false, true},
		{"root", false, false, false, false},
	}
	for _, c := range cases {
		if c.r.Allows(PermRead) != c.read || c.r.Allows(PermOperate) != c.operate || c.r.Allows(PermAdmin) != c.admin ||
			c.r.Valid() != c.v || !c.r.Allows(PermNone) {
			t.Errorf("role %q wrong", c.r)
		}
	}
}

func TestLimiter(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := NewLimiter(3, 10*time.Second, c.Now)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Take("a"); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	ok, wait := l.Take("a")
	if ok || wait != 10*time.Second {
		t.Fatalf("empty bucket: %v %v", ok, wait)
	}
	if ok, _ := l.Take("b"); !ok {
		t.Fatal("other key limited")
	}
	c.Add(4 * time.Second)
	if ok, wait := l.Take("a"); ok || wait != 6*time.Second {
		t.Fatalf("after 4s: %v %v", ok, wait)
	}
	c.Add(6 * time.Second)
	if ok, _ := l.Take("a"); !ok {
		t.Fatal("not refilled after 10s")
	}
	l.Refund("a")
	if ok, _ := l.Take("a"); !ok {
		t.Fatal("refund lost")
	}
	c.Add(time.Hour)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Take("a"); !ok {
			t.Fatal("burst not capped back at 3 after a long pause")
		}
	}
	if ok, _ := l.Take("a"); ok {
		t.Fatal("bucket grew beyond its burst")
	}
}

func TestLimiterBoundsMemory(t *testing.T) {
	l := NewLimiter(1, time.Second, nil)
	l.max = 100
	for i := 0; i < 1000; i++ {
		l.Take(string(rune(i)))
	}
	if l.Len() > 100 {
		t.Fatalf("%d keys remembered", l.Len())
	}
}

func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7": "192.0.2.7", "::ffff:192.0.2.7": "192.0.2.7",
		"2001:db8::1": "2001:db8::/64", "2001:db8::ffff:1": "2001:db8::/64", "2001:db8:0:1::1": "2001:db8:0:1::/64",
	} {
		if got := SourceKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("SourceKey(%s) = %s, want %s", in, got, want)
		}
	}
	if SourceKey(netip.Addr{}) != "unknown" {
		t.Error("invalid addr")
	}
}

type fixture struct {
	log   strings.Builder
	a     *Authenticator
	clock *clock
	token string
	loads int
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{clock: &clock{t: time.Unix(1_800_000_000, 0)}}
	tok, th, err := NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.token = tok
	users := []User{
		{Name: "alice", Role: RoleAdmin, PasswordHash: mustHash(t, "alice-pw")},
		{Name: "olga", Role: RoleOperator, PasswordHash: mustHash(t, "olga-pw"), Tokens: []Token{{Name: "ci", Hash: th},
			{Name: "old", Hash: HashToken("lvsb_old"), Expires: f.clock.Now().Add(time.Hour)}}},
		{Name: "vic", Role: RoleViewer, PasswordHash: mustHash(t, "vic-pw")},
		{Name: "nopw", Role: RoleViewer},
		{Name: "broken", Role: RoleViewer, PasswordHash: "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"},
	}
	f.a = New(Options{Users: func() ([]User, error) { f.loads++; return users, nil }, Now: f.clock.Now, Log: slog.New(slog.NewTextHandler(&f.log, nil)),
		SourceBurst: 4, SourceEvery: 10 * time.Second, UserBurst: 3, UserEvery: 20 * time.Second})
	return f
}

func basic(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }

var src = netip.MustParseAddr("192.0.2.50")

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	id, err := f.a.Authenticate(src, basic("olga", "olga-pw"))
	if err != nil || id != (Identity{User: "olga", Role: RoleOperator, Via: "password"}) {
		t.Fatalf("basic: %+v %v", id, err)
	}
	id, err = f.a.Authenticate(src, "Bearer "+f.token)
	if err != nil || id != (Identity{User: "olga", Role: RoleOperator, Via: "token", Token: "ci"}) {
		t.Fatalf("token: %+v %v", id, err)
	}
	if id, err := f.a.Authenticate(src, "Bearer lvsb_old"); err != nil || id.Token != "old" {
		t.Fatalf("token before expiry: %+v %v", id, err)
	}
	f.clock.Add(time.Hour)
	if _, err := f.a.Authenticate(src, "Bearer lvsb_old"); !errors.Is(err, ErrBadCredentials) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}
	for _, h := range []string{basic("olga", "wrong"), basic("mallory", "x"), basic("nopw", ""), "Bearer lvsb_nope",
		"Basic !!!", "Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon")), "Digest x"} {
		if _, err := f.a.Authenticate(netip.MustParseAddr("198.51.100.1"), h); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%q: %v", h, err)
		}
		f.clock.Add(time.Minute) // stay under the limits here
	}
	_, err = f.a.Authenticate(netip.MustParseAddr("198.51.100.2"), basic("broken", "x"))
	if !errors.Is(err, ErrBadCredentials) || strings.Contains(err.Error(), "argon2") || !strings.Contains(f.log.String(), "unusable password hash") {
		t.Errorf("broken hash: %v (the detail belongs in the log: %q)", err, f.log.String())
	}
	if _, err := f.a.Authenticate(src, ""); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("no header: %v", err)
	}
}

func TestRateLimitPerSourceAndUser(t *testing.T) {
	f := newFixture(t)
	// Per user: 3 failures, then even the right password is refused.
	for i := 0; i < 3; i++ {
		if _, err := f.a.Password(netip.MustParseAddr("192.0.2.1"), "vic", "bad"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err := f.a.Password(netip.MustParseAddr("192.0.2.2"), "vic", "vic-pw")
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 20*time.Second {
		t.Fatalf("4th attempt for vic: %v", err)
	}
	// Other users are not affected.
	if _, err := f.a.Password(netip.MustParseAddr("192.0.2.2"), "alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(20 * time.Second)
	if _, err := f.a.Password(netip.MustParseAddr("192.0.2.2"), "vic", "vic-pw"); err != nil {
		t.Fatalf("after refill: %v", err)
	}

	// Per source: 4 failures over different user names, then the source is blocked
	// for everyone, including tokens.
	bad := netip.MustParseAddr("203.0.113.9")
	for i, u := range []string{"a", "b", "c", "d"} {
		if _, err := f.a.Password(bad, u, "x"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := f.a.Password(bad, "alice", "alice-pw"); !errors.As(err, &rl) {
		t.Fatalf("source not limited: %v", err)
	}
	if _, err := f.a.Token(bad, f.token); !errors.As(err, &rl) {
		t.Fatalf("token from limited source: %v", err)
	}
	// IPv6 neighbours in the same /64 share a bucket.
	for i := 0; i < 4; i++ {
		f.a.Token(netip.MustParseAddr("2001:db8::1"), "lvsb_bad")
	}
	if _, err := f.a.Token(netip.MustParseAddr("2001:db8::2"), f.token); !errors.As(err, &rl) {
		t.Fatalf("/64 not shared: %v", err)
	}
	// Successes do not use up the budget.
	for i := 0; i < 20; i++ {
		if _, err := f.a.Password(src, "alice", "alice-pw"); err != nil {
			t.Fatalf("success %d: %v", i, err)
		}
	}
}

func TestSessions(t *testing.T) {
	f := newFixture(t)
	tok, exp, id, err := f.a.Login(src, "vic", "vic-pw")
	if err != nil || !strings.HasPrefix(tok, SessionTokenPrefix) || !exp.Equal(f.clock.Now().Add(8*time.Hour)) || id.Via != "session" {
		t.Fatalf("login: %q %v %+v %v", tok, exp, id, err)
	}
	if id, err := f.a.Authenticate(src, "Bearer "+tok); err != nil || id.User != "vic" || id.Role != RoleViewer || id.Via != "session" {
		t.Fatalf("session: %+v %v", id, err)
	}
	if _, _, _, err := f.a.Login(src, "vic", "nope"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("bad login: %v", err)
	}
	f.clock.Add(8 * time.Hour)
	if _, err := f.a.Token(src, tok); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("expired session accepted: %v", err)
	}
	tok, _, _, _ = f.a.Login(src, "vic", "vic-pw")
	if !f.a.Logout(tok) || f.a.Logout(tok) {
		t.Fatal("logout")
	}
	if _, err := f.a.Token(src, tok); !errors.Is(err, ErrBadCredentials) {
		t.Fatal("session valid after logout")
	}
}

func TestBootstrap(t *testing.T) {
	path := filepath.Join(t.TempDir(), InitialPasswordFile)
	var created []string
	b := &Bootstrap{Path: path, Created: func(u, pw, p string) { created = append(created, u+" "+pw+" "+p) }}
	if err := b.Ensure(); err != nil || len(created) != 1 {
		t.Fatalf("Ensure: %v %q", err, created)
	}
	u, err := b.User()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", fi, err)
	}
	data, _ := os.ReadFile(path)
	pw := strings.TrimSpace(string(data))
	if len(pw) != 20 || u.Name != "admin" || u.Role != RoleAdmin || VerifyPassword(u.PasswordHash, pw) != nil {
		t.Fatalf("user %+v, password %q", u, pw)
	}
	if len(created) != 1 || created[0] != "admin "+pw+" "+path {
		t.Fatalf("created callback: %q", created)
	}
	// A second daemon start reuses the file and does not announce it again.
	b2 := &Bootstrap{Path: path, Created: func(string, string, string) { t.Error("announced twice") }}
	u2, err := b2.User()
	if err != nil || VerifyPassword(u2.PasswordHash, pw) != nil {
		t.Fatalf("reuse: %v", err)
	}
	os.WriteFile(path, []byte("\n"), 0o600)
	if _, err := (&Bootstrap{Path: path}).User(); err == nil {
		t.Fatal("empty password file accepted")
	}
}

func TestUserCache(t *testing.T) {
	var cfgUsers []User
	loads := 0
	c := &UserCache{
		Load:      func() ([]User, error) { loads++; return cfgUsers, nil },
		Bootstrap: &Bootstrap{Path: filepath.Join(t.TempDir(), "pw")},
	}
	us, err := c.Users()
	if err != nil || len(us) != 1 || us[0].Name != "admin" {
		t.Fatalf("no users: bootstrap expected, got %+v %v", us, err)
	}
	c.Users()
	if loads != 1 {
		t.Fatalf("loads = %d", loads)
	}
	cfgUsers = []User{{Name: "alice", Role: RoleAdmin}}
	c.Invalidate()
	other := &UserCache{Load: func() ([]User, error) { return cfgUsers, nil }, Bootstrap: &Bootstrap{Path: filepath.Join(t.TempDir(), "pw2")}}
	if err := other.EnsureBootstrap(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other.Bootstrap.Path); err == nil {
		t.Fatal("bootstrap password created although users exist")
	}
	if us, _ := c.Users(); len(us) != 1 || us[0].Name != "alice" {
		t.Fatalf("configured users must replace the bootstrap admin: %+v", us)
	}
}
