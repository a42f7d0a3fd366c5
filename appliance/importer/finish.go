package importer

import (
	"errors"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// Origins maps configuration paths ("virtual_services[web]",
// "vrrp_instances[VI_1].track_scripts[0]") to the place in the source they came
// from, so that validation errors can point back into the source.
type Origins map[string]Pos

// Set records where path came from.
func (o Origins) Set(path string, p Pos) { o[path] = p }

// Lookup returns the origin of path or of its nearest recorded ancestor
// ("a.b[2].c" → "a.b[2]" → "a.b" → "a").
func (o Origins) Lookup(path string) Pos {
	for path != "" {
		if p, ok := o[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return Pos{}
}

// Finish validates an imported configuration. Every validation error becomes a note
// of severity Error and every warning a note of severity Warning, keyed by the
// configuration path and placed at the path's origin; they are appended to notes.
// An imported configuration that does not validate thus always carries the
// explanation why.
func Finish(c config.Config, notes Notes, origins Origins) Notes {
	if err := c.Validate(); err != nil {
		var es config.Errors
		if errors.As(err, &es) {
			for _, e := range es {
				notes.Add(origins.Lookup(e.Path), Error, e.Path, "the imported configuration does not validate: %s", e.Msg)
			}
		} else {
			notes.Add(Pos{}, Error, "", "the imported configuration does not validate: %v", err)
		}
	}
	for _, w := range c.Warnings() {
		notes.Add(origins.Lookup(w.Path), Warning, w.Path, "lvsbox warns: %s", w.Msg)
	}
	return notes
}
