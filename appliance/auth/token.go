package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Token prefixes tell API tokens and session tokens apart.
const (
	APITokenPrefix     = "lvsb_"
	SessionTokenPrefix = "lvss_"
	tokenHashPrefix    = "sha256:"
)

// NewToken returns a fresh API token and the hash to put into the configuration.
// Tokens are 256 random bits, so a fast hash is enough to store them.
func NewToken(random io.Reader) (token, hash string, err error) {
	t, err := randomToken(random, APITokenPrefix)
	if err != nil {
		return "", "", err
	}
	return t, HashToken(t), nil
}

// HashToken returns the stored form of a token: `sha256:HEX`.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return tokenHashPrefix + hex.EncodeToString(sum[:])
}

// CheckTokenHash reports whether h is a token hash HashToken could have made.
func CheckTokenHash(h string) error {
	raw, ok := strings.CutPrefix(h, tokenHashPrefix)
	if !ok {
		return errors.New(`auth: token hash lacks the "sha256:" prefix`)
	}
	if sum, err := hex.DecodeString(raw); err != nil || len(sum) != sha256.Size {
		return errors.New("auth: token hash is not a hex SHA-256 digest")
	}
	return nil
}

// tokenMatches compares a presented token with a stored hash in constant time
// (upper-case hex in the configuration is accepted).
func tokenMatches(hash, token string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(hash)), []byte(HashToken(token))) == 1
}

func randomToken(random io.Reader, prefix string) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("auth: token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}
