package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// File names inside the certificate directory.
const (
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
)

// Options shape a generated certificate.
type Options struct {
	// Hosts become subject alternative names: IP addresses as IP SANs, anything else
	// as DNS names. The first DNS name is also the common name.
	Hosts    []string
	Now      func() time.Time // time.Now
	Rand     io.Reader        // crypto/rand
	Validity time.Duration    // 10 years
}

// Ensure makes dir hold a certificate and key. When both files are missing it
// generates a self-signed pair and returns true. When only one of them exists it
// returns an error rather than overwrite the operator's file.
func Ensure(dir string, o Options) (generated bool, err error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	_, cerr := os.Stat(certPath)
	_, kerr := os.Stat(keyPath)
	switch {
	case cerr == nil && kerr == nil:
		return false, nil
	case cerr == nil && errors.Is(kerr, fs.ErrNotExist):
		return false, fmt.Errorf("tlscert: %s exists but %s is missing", certPath, keyPath)
	case kerr == nil && errors.Is(cerr, fs.ErrNotExist):
		return false, fmt.Errorf("tlscert: %s exists but %s is missing", keyPath, certPath)
	case !errors.Is(cerr, fs.ErrNotExist):
		return false, fmt.Errorf("tlscert: %w", cerr)
	case !errors.Is(kerr, fs.ErrNotExist):
		return false, fmt.Errorf("tlscert: %w", kerr)
	}
	certPEM, keyPEM, err := Generate(o)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("tlscert: %w", err)
	}
	// Key first: a crash in between leaves "key without cert", which is reported.
	if err := writeFile(keyPath, keyPEM, 0o600); err != nil {
		return false, err
	}
	if err := writeFile(certPath, certPEM, 0o644); err != nil {
		os.Remove(keyPath)
		return false, err
	}
	return true, nil
}

// writeFile writes atomically (temp file, fsync, rename).
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tlscert: write %s: %w", path, err)
	}
	return nil
}

// Generate returns a PEM certificate and PEM PKCS#8 key for a self-signed server
// certificate.
func Generate(o Options) (certPEM, keyPEM []byte, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Validity <= 0 {
		o.Validity = 10 * 365 * 24 * time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), o.Rand)
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: key: %w", err)
	}
	serial, err := rand.Int(o.Rand, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: serial: %w", err)
	}
	now := o.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"lvsbox"}, CommonName: "lvsbox"},
		NotBefore:             now.Add(-time.Hour), // tolerate a little clock skew
		NotAfter:              now.Add(o.Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	seen := map[string]bool{}
	for _, h := range o.Hosts {
		h = strings.TrimSpace(h)
		if h == "" || seen[h] {
			continue
		}
		seen[h] = true
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			continue
		}
		if len(tmpl.DNSNames) == 0 {
			tmpl.Subject.CommonName = h
		}
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	der, err := x509.CreateCertificate(o.Rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlscert: key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// Fingerprint is the SHA-256 of a certificate's DER, as colon-separated upper-case
// hex (the form browsers and `openssl x509 -fingerprint -sha256` show).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// Loader serves the pair in Dir and reloads it when either file changes (checked at
// most every CheckEvery). It is safe for concurrent use.
type Loader struct {
	Dir        string
	CheckEvery time.Duration    // 5s
	Now        func() time.Time // time.Now
	// Reloaded is called after a successful reload, Failed when a changed pair does
	// not load (the previous certificate stays in use).
	Reloaded func(fingerprint string)
	Failed   func(err error)

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string
	checked time.Time
}

// stamp identifies the files' current versions.
func (l *Loader) fileStamp() (string, error) {
	var parts []string
	for _, name := range []string{CertFile, KeyFile} {
		fi, err := os.Stat(filepath.Join(l.Dir, name))
		if err != nil {
			return "", fmt.Errorf("tlscert: %w", err)
		}
		parts = append(parts, fmt.Sprintf("%d/%d", fi.ModTime().UnixNano(), fi.Size()))
	}
	return strings.Join(parts, ","), nil
}

// Load (re)reads the pair now and returns it.
func (l *Loader) Load() (*tls.Certificate, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.load()
}

func (l *Loader) load() (*tls.Certificate, error) {
	stamp, err := l.fileStamp()
	if err != nil {
		return nil, err
	}
	c, err := tls.LoadX509KeyPair(filepath.Join(l.Dir, CertFile), filepath.Join(l.Dir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("tlscert: load %s: %w", l.Dir, err)
	}
	l.cert, l.stamp = &c, stamp
	return &c, nil
}

// Certificate returns the current pair, reloading it first if the files changed.
func (l *Loader) Certificate() (*tls.Certificate, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	every := l.CheckEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cert == nil {
		l.checked = now()
		return l.load()
	}
	if t := now(); t.Sub(l.checked) >= every {
		l.checked = t
		if stamp, err := l.fileStamp(); err == nil && stamp != l.stamp {
			if c, err := l.load(); err != nil {
				l.stamp = stamp // report a broken replacement once
				if l.Failed != nil {
					l.Failed(err)
				}
			} else if l.Reloaded != nil {
				l.Reloaded(Fingerprint(c.Certificate[0]))
			}
		}
	}
	return l.cert, nil
}

// GetCertificate is for tls.Config.GetCertificate.
func (l *Loader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return l.Certificate()
}
