package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/lvsbox/lvsbox/appliance/cli"
	"github.com/lvsbox/lvsbox/appliance/config"
	"github.com/lvsbox/lvsbox/appliance/importer"
	"github.com/lvsbox/lvsbox/appliance/importer/ipvsadm"
	"github.com/lvsbox/lvsbox/appliance/importer/keepalived"
)

// converters are the `lvsbox import KIND` converters built into this binary.
var converters = map[string]cli.Converter{
	"keepalived": converter(func(path string) (config.Config, []importer.Note, error) {
		return keepalived.Import(path, keepalived.Options{})
	}),
	"ipvsadm": converter(func(path string) (config.Config, []importer.Note, error) {
		var r io.Reader = os.Stdin // "-": ipvsadm -S | lvsbox import ipvsadm -
		if path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return config.Config{}, nil, err
			}
			defer f.Close()
			r = f
		}
		return ipvsadm.Import(r, ipvsadm.Options{Name: path})
	}),
}

// converter adapts an importer to cli.Converter: notes become lines for the
// operator, and a result the importer marked invalid is refused before it is
// sent (its error notes say why, with file and line).
type converter func(path string) (config.Config, []importer.Note, error)

func (c converter) Convert(path string) ([]byte, []string, error) {
	cfg, notes, err := c(path)
	lines := make([]string, 0, len(notes))
	for _, n := range notes {
		lines = append(lines, n.String())
	}
	if err != nil {
		return nil, lines, err
	}
	if importer.HasErrors(notes) {
		return nil, lines, fmt.Errorf("the converted configuration has errors (see the notes above); %d keyword(s) unmapped", importer.CountUnmapped(notes))
	}
	doc, err := json.Marshal(cfg)
	return doc, lines, err
}
