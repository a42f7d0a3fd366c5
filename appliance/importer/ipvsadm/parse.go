package ipvsadm

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/lvsbox/lvsbox/appliance/importer"
)

// Bounds for hostile input.
const (
	maxLineLen = 64 << 10
	maxLines   = 1 << 20
)

// Argument kinds of an option.
const (
	argNone = iota
	argRequired
	argOptional // only a number is taken as the optional value (-p [timeout])
)

// optSpec describes one ipvsadm option.
type optSpec struct {
	name string // canonical long name
	arg  int
	cmd  bool // a command (exactly one per line)
}

var options = []optSpec{
	{"add-service", argNone, true}, {"edit-service", argNone, true}, {"delete-service", argNone, true},
	{"clear", argNone, true}, {"restore", argNone, true}, {"save", argNone, true},
	{"add-server", argNone, true}, {"edit-server", argNone, true}, {"delete-server", argNone, true},
	{"list", argNone, true}, {"zero", argNone, true}, {"set", argRequired, true},
	{"start-daemon", argRequired, true}, {"stop-daemon", argRequired, true},
	{"help", argNone, true}, {"version", argNone, true},
	{"tcp-service", argRequired, false}, {"udp-service", argRequired, false},
	{"sctp-service", argRequired, false}, {"fwmark-service", argRequired, false},
	{"scheduler", argRequired, false}, {"persistent", argOptional, false},
	{"netmask", argRequired, false}, {"sched-flags", argRequired, false}, {"pe", argRequired, false},
	{"ops", argNone, false}, {"ipv6", argNone, false},
	{"real-server", argRequired, false}, {"gatewaying", argNone, false}, {"ipip", argNone, false},
	{"masquerading", argNone, false}, {"weight", argRequired, false},
	{"u-threshold", argRequired, false}, {"l-threshold", argRequired, false},
	{"tun-type", argRequired, false}, {"tun-port", argRequired, false},
	{"tun-nocsum", argNone, false}, {"tun-csum", argNone, false}, {"tun-remcsum", argNone, false},
	{"mcast-interface", argRequired, false}, {"syncid", argRequired, false},
	{"sync-maxlen", argRequired, false}, {"mcast-group", argRequired, false},
	{"mcast-port", argRequired, false}, {"mcast-ttl", argRequired, false},
	{"numeric", argNone, false}, {"connection", argNone, false}, {"timeout", argNone, false},
	{"daemon", argNone, false}, {"stats", argNone, false}, {"rate", argNone, false},
	{"thresholds", argNone, false}, {"persistent-conn", argNone, false}, {"nosort", argNone, false},
	{"sort", argNone, false}, {"exact", argNone, false},
}

var shortNames = map[byte]string{
	'A': "add-service", 'E': "edit-service", 'D': "delete-service", 'C': "clear", 'R': "restore",
	'S': "save", 'a': "add-server", 'e': "edit-server", 'd': "delete-server", 'L': "list", 'l': "list",
	'Z': "zero", 'h': "help", 'v': "version", 't': "tcp-service", 'u': "udp-service",
	'f': "fwmark-service", 's': "scheduler", 'p': "persistent", 'M': "netmask", 'b': "sched-flags",
	'o': "ops", '6': "ipv6", 'r': "real-server", 'g': "gatewaying", 'i': "ipip", 'm': "masquerading",
	'w': "weight", 'x': "u-threshold", 'y': "l-threshold", 'n': "numeric", 'c': "connection",
}

var byName = func() map[string]optSpec {
	m := map[string]optSpec{}
	for _, o := range options {
		m[o.name] = o
	}
	return m
}()

// option is one option of a line, as written and in canonical form.
type option struct {
	name string
	word string // as written: "-t", "--tcp-service"
	val  string
}

// command is one ipvsadm command line.
type command struct {
	pos  importer.Pos
	cmd  option
	opts []option
}

// get returns the last value of option name and whether it was given.
func (c command) get(name string) (option, bool) {
	var out option
	found := false
	for _, o := range c.opts {
		if o.name == name {
			out, found = o, true
		}
	}
	return out, found
}

// parse reads the input into commands; every line it cannot read is a note.
func parse(r io.Reader, name string, notes *importer.Notes) ([]command, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	var cmds []command
	for line := 1; sc.Scan(); line++ {
		pos := importer.Pos{File: name, Line: line}
		if line > maxLines {
			notes.Add(pos, importer.Error, "", "more than %d lines; the rest is not read", maxLines)
			break
		}
		if c, ok := parseLine(sc.Text(), pos, notes); ok {
			cmds = append(cmds, c)
		}
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			notes.Add(importer.Pos{File: name}, importer.Error, "", "a line is longer than %d bytes; the rest is not read", maxLineLen)
			return cmds, nil
		}
		return nil, fmt.Errorf("ipvsadm: read %s: %w", name, err)
	}
	return cmds, nil
}

// parseLine reads one line; ok is false for blank and comment lines and for lines
// that are reported.
func parseLine(text string, pos importer.Pos, notes *importer.Notes) (command, bool) {
	words := strings.Fields(text)
	for i, w := range words {
		if strings.HasPrefix(w, "#") {
			words = words[:i]
			break
		}
	}
	if len(words) > 0 && words[0] == "sudo" {
		words = words[1:]
	}
	if len(words) > 0 && (words[0] == "ipvsadm" || strings.HasSuffix(words[0], "/ipvsadm")) {
		words = words[1:]
		if len(words) == 0 {
			notes.Add(pos, importer.Info, "ipvsadm", "ipvsadm without options lists the table; nothing to import")
			return command{}, false
		}
	}
	if len(words) == 0 {
		return command{}, false
	}
	if !strings.HasPrefix(words[0], "-") {
		notes.Unmapped(pos, importer.Error, words[0], "not an ipvsadm command (a rule line starts with an option such as -A or -a); line ignored")
		return command{}, false
	}
	c := command{pos: pos}
	for i := 0; i < len(words); i++ {
		w := words[i]
		var opts []option
		switch {
		case strings.HasPrefix(w, "--"):
			name, val, hasVal := strings.Cut(w[2:], "=")
			spec, known := byName[name]
			if !known {
				notes.Unmapped(pos, importer.Error, w, "not an ipvsadm option; ignored")
				continue
			}
			o := option{name: spec.name, word: "--" + name, val: val}
			if !hasVal {
				o.val, i = takeArg(spec, words, i)
			}
			if spec.arg == argRequired && o.val == "" {
				notes.Unmapped(pos, importer.Error, o.word, "needs a value; line ignored")
				return command{}, false
			}
			opts = append(opts, o)
		case len(w) >= 2 && w[0] == '-':
			for j := 1; j < len(w); j++ {
				name, known := shortNames[w[j]]
				if !known {
					notes.Unmapped(pos, importer.Error, "-"+w[j:j+1], "not an ipvsadm option; ignored")
					continue
				}
				spec := byName[name]
				o := option{name: name, word: "-" + w[j:j+1]}
				if spec.arg != argNone {
					if j+1 < len(w) {
						o.val = w[j+1:]
					} else {
						o.val, i = takeArg(spec, words, i)
					}
					j = len(w)
				}
				if spec.arg == argRequired && o.val == "" {
					notes.Unmapped(pos, importer.Error, o.word, "needs a value; line ignored")
					return command{}, false
				}
				opts = append(opts, o)
			}
		case w == "ops" || w == "pe" && i+1 < len(words):
			// ipvsadm up to 1.26 saved one-packet scheduling and persistence
			// engines without dashes.
			o := option{name: "ops", word: w}
			if w == "pe" {
				i++
				o = option{name: "pe", word: w, val: words[i]}
			}
			notes.Add(pos, importer.Info, w, "read as --%s (how ipvsadm 1.26 and older save it)", o.name)
			opts = append(opts, o)
		case strings.Contains(w, "$"):
			notes.Unmapped(pos, importer.Error, w, "a shell variable: this is a shell script, not ipvsadm -S output; expand the variables first; ignored")
		default:
			notes.Unmapped(pos, importer.Error, w, "unexpected word (not an option, and no option before it takes a value); ignored")
		}
		for _, o := range opts {
			if !byName[o.name].cmd {
				c.opts = append(c.opts, o)
				continue
			}
			if c.cmd.name != "" {
				notes.Unmapped(pos, importer.Error, o.word, "a second command on one line (%s is the first); line ignored", c.cmd.word)
				return command{}, false
			}
			c.cmd = o
		}
	}
	if c.cmd.name == "" {
		notes.Unmapped(pos, importer.Error, words[0], "no command (-A, -E, -D, -a, -e, -d, -C, --set, --start-daemon); line ignored")
		return command{}, false
	}
	return c, true
}

// takeArg takes the value of option spec from the word after i, and returns it
// with the index of the last word used.
func takeArg(spec optSpec, words []string, i int) (string, int) {
	switch {
	case spec.arg == argNone || i+1 >= len(words):
		return "", i
	case spec.arg == argOptional && strings.Trim(words[i+1], "0123456789") != "":
		return "", i
	case spec.name == "set":
		// --set tcp tcpfin udp: three values.
		end := min(i+3, len(words)-1)
		return strings.Join(words[i+1:end+1], " "), end
	}
	return words[i+1], i + 1
}
