package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are the argon2id cost parameters of new hashes.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 follows the OWASP recommendation for argon2id (19 MiB, 2 passes, 1 lane).
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Bounds on parameters accepted from a stored hash, so that a hostile configuration
// cannot make every login allocate gigabytes.
const (
	maxMemory  = 256 * 1024
	maxTime    = 16
	maxThreads = 16
	saltLen    = 16
	keyLen     = 32
)

var b64 = base64.RawStdEncoding

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("auth: password does not match")

// HashPassword returns an argon2id PHC string for password, e.g.
// `$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`. A nil random source means crypto/rand.
func HashPassword(password string, random io.Reader, p Argon2Params) (string, error) {
	if password == "" {
		return "", errors.New("auth: empty password")
	}
	if random == nil {
		random = rand.Reader
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckHash reports whether hash is a password hash VerifyPassword understands (it
// does not check any password).
func CheckHash(hash string) error {
	if isBcrypt(hash) {
		_, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return fmt.Errorf("auth: bcrypt hash: %w", err)
		}
		return nil
	}
	_, _, _, err := parseArgon2(hash)
	return err
}

// VerifyPassword checks password against an argon2id PHC string or a bcrypt hash
// ($2a$, $2b$, $2y$). It returns nil on a match and ErrMismatch (or a parse error) else.
func VerifyPassword(hash, password string) error {
	if isBcrypt(hash) {
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)); err != nil {
			if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
				return ErrMismatch
			}
			return fmt.Errorf("auth: bcrypt hash: %w", err)
		}
		return nil
	}
	p, salt, want, err := parseArgon2(hash)
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

func isBcrypt(h string) bool {
	return strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$")
}

// parseArgon2 splits `$argon2id$v=19$m=M,t=T,p=P$salt$hash`.
func parseArgon2(h string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, errors.New("auth: not a password hash (want $argon2id$v=19$m=...,t=...,p=...$salt$hash or bcrypt)")
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("auth: unsupported hash algorithm %q (want argon2id or bcrypt)", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("auth: unsupported argon2 version %q", parts[2])
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return p, nil, nil, fmt.Errorf("auth: bad argon2 parameter %q", kv)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				n = 0
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, fmt.Errorf("auth: unknown argon2 parameter %q", k)
		}
	}
	if p.Memory < 8 || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads {
		return p, nil, nil, fmt.Errorf("auth: argon2 parameters out of range (m 8-%d, t 1-%d, p 1-%d): %s", maxMemory, maxTime, maxThreads, parts[3])
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("auth: bad argon2 salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errors.New("auth: bad argon2 hash")
	}
	return p, salt, key, nil
}
