package ipvsadm

import (
	"io"

	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
)

// Options tune an import.
type Options struct {
	// Name is what notes call the input (a file name); empty means "stdin".
	Name string
}

// Import reads ipvsadm rules (ipvsadm -S / -Sn output, or a script of ipvsadm
// commands) from r and maps the table they build to an lvsbox configuration.
// Services are named after their key ("tcp-192.0.2.1-80", "fwmark-1"); a service's
// forwarding is its first real server's (ipvsadm sets forwarding per real server),
// and real servers that differ keep their own. The notes list every option or line
// that could not be mapped (with its line), and, last, every validation error and
// warning of the result (importer.Finish). The error is only for a failing reader.
func Import(r io.Reader, opts Options) (config.Config, []importer.Note, error) {
	name := opts.Name
	if name == "" {
		name = "stdin"
	}
	var notes importer.Notes
	cmds, err := parse(r, name, &notes)
	if err != nil {
		return config.Config{}, nil, err
	}
	t := &table{notes: &notes}
	for _, c := range cmds {
		t.apply(c)
	}
	origins := importer.Origins{}
	cfg := t.build(origins)
	return cfg, importer.Finish(cfg, notes, origins), nil
}
