package importer

import (
	"fmt"
	"strings"
)

// Severity says how much a note matters.
type Severity string

// Severities, least to most serious.
const (
	// Info: mapped, with a remark (a default made explicit, an object created).
	Info Severity = "info"
	// Warning: something of the source is not carried over, or behaves differently.
	Warning Severity = "warning"
	// Error: the source is broken, or the imported configuration will not validate
	// until the operator changes it.
	Error Severity = "error"
)

// Pos is a place in a source file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	switch {
	case p.File == "" && p.Line == 0:
		return ""
	case p.Line == 0:
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Note is one explanation of an import: a keyword or option that could not be
// mapped (Unmapped), a problem with the source, or a remark about how something was
// mapped. Importers never drop anything of the source without a note.
type Note struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Keyword is the source keyword or option the note is about (or, for notes from
	// Finish, the configuration path).
	Keyword  string   `json:"keyword,omitempty"`
	Message  string   `json:"message"`
	Severity Severity `json:"severity"`
	// Unmapped marks a keyword (or option) of the source that has no place in the
	// imported configuration.
	Unmapped bool `json:"unmapped,omitempty"`
}

// At returns the note's position.
func (n Note) At() Pos { return Pos{File: n.File, Line: n.Line} }

// String formats the note as `file:line: keyword: message (severity[, unmapped])`.
func (n Note) String() string {
	var b strings.Builder
	if p := n.At().String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if n.Keyword != "" {
		b.WriteString(n.Keyword)
		b.WriteString(": ")
	}
	b.WriteString(n.Message)
	b.WriteString(" (")
	b.WriteString(string(n.Severity))
	if n.Unmapped {
		b.WriteString(", unmapped")
	}
	b.WriteString(")")
	return b.String()
}

// Notes collects notes in the order they are made.
type Notes []Note

// Add appends a note.
func (ns *Notes) Add(p Pos, sev Severity, keyword, format string, args ...any) {
	*ns = append(*ns, Note{File: p.File, Line: p.Line, Keyword: keyword, Message: fmt.Sprintf(format, args...), Severity: sev})
}

// Unmapped appends a note for a source keyword that has no place in the result.
func (ns *Notes) Unmapped(p Pos, sev Severity, keyword, format string, args ...any) {
	*ns = append(*ns, Note{File: p.File, Line: p.Line, Keyword: keyword, Message: fmt.Sprintf(format, args...), Severity: sev, Unmapped: true})
}

// CountUnmapped returns how many notes report an unmapped keyword.
func CountUnmapped(notes []Note) int {
	n := 0
	for _, x := range notes {
		if x.Unmapped {
			n++
		}
	}
	return n
}

// HasErrors reports whether any note has severity Error.
func HasErrors(notes []Note) bool {
	for _, x := range notes {
		if x.Severity == Error {
			return true
		}
	}
	return false
}

// Format writes one note per line.
func Format(notes []Note) string {
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(n.String())
		b.WriteByte('\n')
	}
	return b.String()
}
