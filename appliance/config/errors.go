package config

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one field of a document.
type FieldError struct {
	// Path names the field, e.g. `virtual_services[web].real_servers[2].port`; list
	// elements with a name use it, others their zero-based index.
	Path string
	Msg  string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errors is every problem found in a document; it is returned as an error only when
// non-empty.
type Errors []FieldError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// add records a problem at path.
func (es *Errors) add(path, format string, args ...any) {
	*es = append(*es, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns es as an error, or nil when it is empty.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// join builds a child path: join("a", "b") is "a.b"; join("", "b") is "b".
func join(parent, field string) string {
	if parent == "" {
		return field
	}
	return parent + "." + field
}

// elem names a list element by its name when it has one, else by index. Names that
// could be misread (brackets, spaces, all digits) fall back to the index.
func elem(parent string, i int, name string) string {
	if name != "" && !strings.ContainsAny(name, "[] ") && strings.Trim(name, "0123456789") != "" {
		return fmt.Sprintf("%s[%s]", parent, name)
	}
	return fmt.Sprintf("%s[%d]", parent, i)
}
