package keepalived

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/importer"
)

// Bounds that keep hostile or broken input (include loops, huge expansions) from
// running away. keepalived has no such limits; real configurations stay far below.
const (
	defaultMaxIncludeDepth = 16
	maxFiles               = 256
	maxBytes               = 32 << 20
	maxTokens              = 1 << 20
	maxSubstitutions       = 16
	maxLineLen             = 64 << 10
	nbsp                   = "\u00a0"
)

// lexer turns keepalived.conf and its include files into one token stream, the
// way keepalived's read_line does: comments (# and !, outside double quotes) are
// removed, @id lines are kept or dropped by the configuration id, $NAME=value
// definitions are recorded and substituted, include lines are replaced by the
// files they match, and { and } are tokens of their own wherever they stand
// outside double quotes.
type lexer struct {
	fs       FileSystem
	configID string
	maxDepth int
	notes    *importer.Notes
	toks     []token
	defs     map[string]string
	stack    []string
	files    int
	bytes    int
	full     bool
}

func (l *lexer) note(p importer.Pos, sev importer.Severity, kw, format string, args ...any) {
	l.notes.Add(p, sev, kw, format, args...)
}

// include lexes the files matched by pattern (relative to the including file's
// directory) at depth.
func (l *lexer) include(pattern string, from importer.Pos, depth int) {
	if !filepath.IsAbs(pattern) && from.File != "" {
		pattern = filepath.Join(filepath.Dir(from.File), pattern)
	}
	if depth > l.maxDepth {
		l.note(from, importer.Error, "include", "%s: includes nest deeper than %d levels; not read (an include loop?)", pattern, l.maxDepth)
		return
	}
	matches, err := l.fs.Glob(pattern)
	if err != nil {
		l.note(from, importer.Error, "include", "%s: bad pattern: %v", pattern, err)
		return
	}
	if len(matches) == 0 {
		l.note(from, importer.Warning, "include", "%s: no file matches (keepalived goes on without it, and so does the import)", pattern)
		return
	}
	slices.Sort(matches)
	for _, m := range matches {
		if slices.Contains(l.stack, filepath.Clean(m)) {
			l.note(from, importer.Error, "include", "%s includes itself (through %s); not read again", m, strings.Join(l.stack, " → "))
			continue
		}
		data, err := l.fs.ReadFile(m)
		if err != nil {
			l.note(from, importer.Error, "include", "%s: %v", m, err)
			continue
		}
		l.file(m, data, depth)
	}
}

// file lexes one file's contents.
func (l *lexer) file(name string, data []byte, depth int) {
	if l.full {
		return
	}
	l.files++
	l.bytes += len(data)
	if l.files > maxFiles || l.bytes > maxBytes {
		l.full = true
		l.note(importer.Pos{File: name}, importer.Error, "include", "more than %d files or %d MiB of configuration; the rest is not read", maxFiles, maxBytes>>20)
		return
	}
	l.stack = append(l.stack, filepath.Clean(name))
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()
	text := string(data)
	if i := strings.Index(text, nbsp); i >= 0 {
		line := strings.Count(text[:i], "\n") + 1
		l.note(importer.Pos{File: name, Line: line}, importer.Warning, "", "non-breaking spaces (U+00A0, first on this line) are read as blanks; keepalived would read them as part of the words (was the file copied from a web page?)")
		text = strings.ReplaceAll(text, nbsp, " ")
	}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines) && !l.full; i++ {
		pos := importer.Pos{File: name, Line: i + 1}
		raw := strings.TrimRight(lines[i], "\r")
		if len(raw) > maxLineLen {
			l.note(pos, importer.Error, "", "line longer than %d bytes; skipped", maxLineLen)
			continue
		}
		text := l.decomment(raw, pos)
		text = l.conditional(text, pos)
		if text == "" {
			continue
		}
		if text[0] == '$' {
			if name, value, ok := definition(text); ok {
				if strings.HasSuffix(value, `\`) {
					l.note(pos, importer.Error, "$"+name, "multi-line definitions are not supported by the importer; the definition and its continuation lines are skipped")
					for i+1 < len(lines) && strings.HasSuffix(strings.TrimRight(lines[i+1], " \t\r"), `\`) {
						i++
					}
					if i+1 < len(lines) {
						i++
					}
					continue
				}
				l.defs[name] = value
				continue
			}
		}
		if strings.HasPrefix(text, "~SEQ") || strings.HasPrefix(text, "~LST") {
			l.note(pos, importer.Error, text[:4], "sequence expansion is not supported by the importer; write the lines out")
			continue
		}
		if len(l.defs) > 0 && strings.Contains(text, "$") {
			text = l.decomment(l.substitute(text, pos), pos)
			text = l.conditional(text, pos)
			if text == "" {
				continue
			}
		}
		if f := strings.Fields(text); len(f) > 0 && f[0] == "include" {
			pattern := strings.Trim(strings.TrimSpace(text[len("include"):]), `"`)
			if pattern == "" {
				l.note(pos, importer.Error, "include", "include needs a file name")
				continue
			}
			l.include(pattern, pos, depth+1)
			continue
		}
		l.words(text, pos)
		l.emit(token{kind: tEOL, pos: pos})
	}
}

func (l *lexer) emit(t token) {
	if len(l.toks) >= maxTokens {
		if !l.full {
			l.full = true
			l.note(t.pos, importer.Error, "", "more than %d words of configuration; the rest is not read", maxTokens)
		}
		return
	}
	l.toks = append(l.toks, t)
}

// decomment removes leading and trailing blanks and the comment (from a # or ! that
// is outside double quotes); \# and \! outside quotes stand for the characters
// themselves.
func (l *lexer) decomment(s string, pos importer.Pos) string {
	s = strings.TrimLeft(s, " \t")
	var b strings.Builder
	quote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quote = !quote
		case c == '\\' && !quote && i+1 < len(s) && (s[i+1] == '#' || s[i+1] == '!'):
			i++
			c = s[i]
		case !quote && (c == '#' || c == '!'):
			i = len(s)
			continue
		}
		b.WriteByte(c)
	}
	if quote {
		l.note(pos, importer.Error, "", "unterminated quote")
	}
	return strings.TrimRight(b.String(), " \t")
}

// conditional applies "@id line" (kept only when id is the configuration id) and
// "@^id line" (kept only when it is not); it returns the line without its prefix,
// or "" when the line does not apply.
func (l *lexer) conditional(s string, pos importer.Pos) string {
	if s == "" || s[0] != '@' {
		return s
	}
	neg := strings.HasPrefix(s, "@^")
	id, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(s, "@^"), "@"), " ")
	if i := strings.IndexByte(id, '\t'); i >= 0 {
		id, rest, ok = id[:i], id[i+1:]+" "+rest, true
	}
	rest = strings.TrimLeft(rest, " \t")
	if !ok || rest == "" {
		return ""
	}
	if match := l.configID != "" && id == l.configID; match == neg {
		l.note(pos, importer.Info, "@"+id, "line not imported: it applies only when the configuration id is %s%q (the configuration id is %q; set it with the config id option, as with keepalived -i)",
			map[bool]string{true: "not ", false: ""}[neg], id, l.configID)
		return ""
	}
	return rest
}

// definition parses "$NAME=value".
func definition(s string) (name, value string, ok bool) {
	if len(s) < 2 || !(isAlpha(s[1]) || s[1] == '_') {
		return "", "", false
	}
	i := 2
	for i < len(s) && (isAlnum(s[i]) || s[i] == '_') {
		i++
	}
	name = s[1:i]
	rest := strings.TrimLeft(s[i:], " \t")
	if !strings.HasPrefix(rest, "=") {
		return "", "", false
	}
	return name, strings.TrimLeft(rest[1:], " \t"), true
}

// substitute replaces $NAME and ${NAME} of known definitions; unknown names stay as
// they are (as in keepalived). Replacement text is substituted again, a bounded
// number of times.
func (l *lexer) substitute(s string, pos importer.Pos) string {
	for range maxSubstitutions {
		var b strings.Builder
		changed := false
		for i := 0; i < len(s); i++ {
			if s[i] != '$' || i+1 >= len(s) {
				b.WriteByte(s[i])
				continue
			}
			j, braces := i+1, s[i+1] == '{'
			if braces {
				j++
			}
			k := j
			for k < len(s) && (isAlnum(s[k]) || s[k] == '_') {
				k++
			}
			v, known := l.defs[s[j:k]]
			if braces && (k >= len(s) || s[k] != '}') {
				known = false
			}
			if !known || k == j {
				b.WriteByte(s[i])
				continue
			}
			b.WriteString(v)
			changed = true
			i = k - 1
			if braces {
				i = k
			}
		}
		s = b.String()
		if !changed || !strings.Contains(s, "$") {
			return s
		}
		if len(s) > maxLineLen {
			l.note(pos, importer.Error, "", "parameter substitution makes the line longer than %d bytes; line skipped", maxLineLen)
			return ""
		}
	}
	l.note(pos, importer.Error, "", "parameters still refer to parameters after %d rounds of substitution (a definition that refers to itself?)", maxSubstitutions)
	return s
}

// words splits a line into words and brace tokens.
func (l *lexer) words(s string, pos importer.Pos) {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '{':
			l.emit(token{kind: tOpen, text: "{", pos: pos})
			i++
		case c == '}':
			l.emit(token{kind: tClose, text: "}", pos: pos})
			i++
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				l.emit(token{kind: tWord, text: s[i+1:], quoted: true, pos: pos})
				return
			}
			l.emit(token{kind: tWord, text: s[i+1 : i+1+end], quoted: true, pos: pos})
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\"{}", rune(s[j])) {
				j++
			}
			l.emit(token{kind: tWord, text: s[i:j], pos: pos})
			i = j
		}
	}
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }
