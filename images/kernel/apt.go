package kernel

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// stanza is one package record from `apt-cache show`.
type stanza map[string]string

// parseStanza reads the first record of `apt-cache show` output
// (RFC 822-like fields; continuation lines start with a space).
func parseStanza(out []byte) (stanza, error) {
	s := stanza{}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(s) > 0 {
				break
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" {
				s[last] += "\n" + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("apt-cache: malformed line %q", line)
		}
		last = k
		s[k] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("apt-cache: %w", err)
	}
	if s["Package"] == "" || s["Version"] == "" {
		return nil, fmt.Errorf("apt-cache: no Package/Version in output")
	}
	return s, nil
}

var kernelDepRE = regexp.MustCompile(`^(linux-image-[a-z0-9.+-]+)\s*(?:\(\s*=\s*([^)\s]+)\s*\))?$`)

// kernelDependency returns the linux-image-* package (and exact version when
// the dependency pins one) that a metapackage depends on; ok is false for a
// concrete kernel package, whose Depends name no linux-image-* package.
func kernelDependency(s stanza) (pkg, version string, ok bool) {
	for _, alt := range strings.Split(s["Depends"], ",") {
		// Take the first alternative of "a | b".
		first, _, _ := strings.Cut(alt, "|")
		m := kernelDepRE.FindStringSubmatch(strings.TrimSpace(first))
		if m != nil {
			return m[1], m[2], true
		}
	}
	return "", "", false
}

// debFileName is the name apt-get download gives a package file
// (an epoch's ':' is escaped as %3a).
func debFileName(pkg, version string) string {
	return fmt.Sprintf("%s_%s_amd64.deb", pkg, strings.ReplaceAll(version, ":", "%3a"))
}
