package board

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// DefaultPath is where the image puts the board description.
const DefaultPath = "/etc/lvsbox/board.json"

// DefaultHostname is used when board.json has none.
const DefaultHostname = "lvsbox"

// Board is the contents of board.json.
type Board struct {
	Board           string   `json:"board"`
	Hostname        string   `json:"hostname"`
	Console         string   `json:"console"`
	Modules         []string `json:"modules"`
	OptionalModules []string `json:"optional_modules"`
	// ModuleOptions maps a module name to the parameters passed when it is
	// loaded, e.g. {"bonding": "max_bonds=0"}.
	ModuleOptions map[string]string `json:"module_options"`
}

// Default is the board used when board.json is missing or unreadable.
func Default() Board {
	return Board{Hostname: DefaultHostname}
}

// Parse decodes board.json. Unknown fields are tolerated (PID 1 must boot on
// an image whose board.json grew a field); they are returned so the caller can
// log them. Empty fields get defaults.
func Parse(data []byte) (Board, []string, error) {
	b := Default()
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&b); err != nil {
		return Default(), nil, fmt.Errorf("board: decode: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Default(), nil, fmt.Errorf("board: decode: %w", err)
	}
	var unknown []string
	for k := range raw {
		switch k {
		case "board", "hostname", "console", "modules", "optional_modules", "module_options":
		default:
			unknown = append(unknown, k)
		}
	}
	if b.Hostname == "" {
		b.Hostname = DefaultHostname
	}
	if err := ValidHostname(b.Hostname); err != nil {
		h := b.Hostname
		b.Hostname = DefaultHostname
		return b, unknown, fmt.Errorf("board: hostname %q: %w (using %q)", h, err, DefaultHostname)
	}
	b.Modules = clean(b.Modules)
	b.OptionalModules = clean(b.OptionalModules)
	return b, unknown, nil
}

// Load reads and parses the file at path. On error it returns Default() (or
// the partially valid board) together with the error.
func Load(path string) (Board, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Default(), nil, fmt.Errorf("board: %w", err)
	}
	return Parse(data)
}

// ConsoleDevice returns the device path of the board console: "ttyS0" and
// "/dev/ttyS0" both give "/dev/ttyS0"; an empty console gives /dev/console.
func (b Board) ConsoleDevice() string {
	c := strings.TrimSpace(b.Console)
	switch {
	case c == "":
		return "/dev/console"
	case strings.HasPrefix(c, "/"):
		return c
	default:
		// Kernel style "ttyS0,115200n8": drop the options.
		if i := strings.IndexByte(c, ','); i >= 0 {
			c = c[:i]
		}
		return "/dev/" + c
	}
}

// ValidHostname checks a name against the kernel limit (64 bytes) and the
// usual hostname alphabet.
func ValidHostname(h string) error {
	if h == "" {
		return errors.New("empty")
	}
	if len(h) > 64 {
		return errors.New("longer than 64 bytes")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return errors.New("empty label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("label starts or ends with '-'")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("invalid character %q", r)
			}
		}
	}
	return nil
}

func clean(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}
