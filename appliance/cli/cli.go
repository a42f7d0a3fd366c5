package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

// Exit codes of lvsbox.
const (
	ExitOK       = 0
	ExitError    = 1 // anything else (daemon unreachable, server error, ...)
	ExitUsage    = 2 // bad command line
	ExitInvalid  = 3 // the configuration failed validation
	ExitConflict = 4 // stale base revision, or a commit-confirmed change is pending
	ExitAuth     = 5 // not authenticated, not allowed, or rate limited
)

// Converter turns a foreign configuration (keepalived, ipvsadm -S) into an lvsbox
// configuration document for `lvsbox import KIND FILE`.
type Converter interface {
	// Convert reads path (and what it includes) and returns the JSON document and
	// notes for the operator (e.g. keywords it could not map, with file and line).
	Convert(path string) (doc []byte, notes []string, err error)
}

// Env is the command's world, injected for tests.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// ReadPassword prompts on the terminal without echo; nil: read a line from Stdin.
	ReadPassword func(prompt string) (string, error)
	// Converters are the `lvsbox import KIND` converters, by KIND.
	Converters map[string]Converter
	Now        func() time.Time
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errInvalid reports a validation failure already printed.
var errInvalid = errors.New("configuration is invalid")

// globals are the connection and output flags, accepted before and after the command.
type globals struct {
	socket, url, token, user, ca, pin string
	insecure, json                    bool
	timeout                           time.Duration
}

func (g *globals) register(fs *flag.FlagSet, env Env) {
	fs.StringVar(&g.socket, "socket", envOr(env, "LVSBOX_SOCKET", DefaultSocket), "lvsboxd API socket (env LVSBOX_SOCKET)")
	fs.StringVar(&g.url, "url", env.Getenv("LVSBOX_URL"), "remote lvsboxd, https://HOST[:PORT] (env LVSBOX_URL)")
	fs.StringVar(&g.token, "token", env.Getenv("LVSBOX_TOKEN"), "API or session token for --url (env LVSBOX_TOKEN)")
	fs.StringVar(&g.user, "user", env.Getenv("LVSBOX_USER"), "user for --url with a password (env LVSBOX_USER; password from LVSBOX_PASSWORD or a prompt)")
	fs.StringVar(&g.ca, "ca", "", "PEM certificate(s) to trust for --url (e.g. the box's DATA/tls/cert.pem)")
	fs.StringVar(&g.pin, "pin", "", "SHA-256 fingerprint of the box's certificate to trust for --url (logged by lvsboxd)")
	fs.BoolVar(&g.insecure, "insecure", false, "do not verify the server certificate (--url)")
	fs.BoolVar(&g.json, "json", false, "print the API's JSON instead of text")
	fs.DurationVar(&g.timeout, "timeout", 30*time.Second, "request timeout")
}

func envOr(env Env, name, def string) string {
	if v := env.Getenv(name); v != "" {
		return v
	}
	return def
}

// run state of one invocation.
type cmd struct {
	env Env
	g   globals
	c   *Client // lazily created
}

func (x *cmd) client() (*Client, error) {
	if x.c != nil {
		return x.c, nil
	}
	o := ClientOptions{Socket: x.g.socket, URL: x.g.url, Token: x.g.token, User: x.g.user, CA: x.g.ca, Pin: x.g.pin,
		Insecure: x.g.insecure, Timeout: x.g.timeout}
	if o.URL != "" && o.Token == "" && o.User != "" {
		o.Password = x.env.Getenv("LVSBOX_PASSWORD")
		if o.Password == "" {
			pw, err := x.readPassword("Password for " + o.User + ": ")
			if err != nil {
				return nil, err
			}
			o.Password = pw
		}
	}
	c, err := NewClient(o)
	if err != nil {
		return nil, err
	}
	x.c = c
	return c, nil
}

func (x *cmd) readPassword(prompt string) (string, error) {
	if x.env.ReadPassword != nil {
		return x.env.ReadPassword(prompt)
	}
	line, err := ReadLine(x.env.Stdin)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return line, nil
}

// ReadLine reads one line (without its newline) byte by byte, so nothing after it is
// consumed.
func ReadLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
		}
		if err == io.EOF {
			if b.Len() == 0 {
				return "", io.ErrUnexpectedEOF
			}
			break
		}
		if err != nil {
			return "", err
		}
	}
	return strings.TrimSuffix(b.String(), "\r"), nil
}

type command struct {
	name, args, help string
	run              func(x *cmd, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"status", "", "daemon, kernel and configuration state", (*cmd).status},
		{"ipvs", "", "the kernel's IPVS table in the ipvsadm -Ln layout", (*cmd).ipvs},
		{"config get", "[--revision N]", "print the configuration (current or revision N)", (*cmd).configGet},
		{"config apply", "-f FILE [--confirm 5m] [--comment TEXT] [--base N]", "commit FILE (a configuration or an export document)", (*cmd).configApply},
		{"config validate", "-f FILE", "dry run: errors, warnings and the kernel changes FILE would make", (*cmd).configValidate},
		{"config diff", "A B", "changes from revision A to revision B", (*cmd).configDiff},
		{"config history", "[--limit N]", "revisions, newest first", (*cmd).configHistory},
		{"config rollback", "N [--confirm 5m] [--comment TEXT]", "commit a new revision equal to revision N", (*cmd).configRollback},
		{"config confirm", "[N]", "confirm the pending commit-confirmed revision", (*cmd).configConfirm},
		{"export", "[-o FILE]", "export the current revision as {schema, revision, config}", (*cmd).export},
		{"import", "FILE [--base N] [--confirm 5m] [--comment TEXT]", "commit an export document or a configuration file", (*cmd).importFile},
		{"import keepalived", "FILE ...", "convert a keepalived configuration and commit it", nil},
		{"import ipvsadm", "FILE ...", "convert `ipvsadm -S` output and commit it", nil},
		{"rs-script", "SERVICE [-o FILE]", "the script a DR/TUN service's real servers run (VIP on lo/tunl0, ARP sysctls)", (*cmd).rsScript},
		{"whoami", "", "who the daemon thinks you are", (*cmd).whoami},
		{"login", "", "open a session on --url and print its token (for LVSBOX_TOKEN)", (*cmd).login},
		{"hash-password", "", "read a password and print its argon2id hash for users[].password_hash", (*cmd).hashPassword},
		{"token new", "NAME", "make an API token; prints the token and the users[].tokens[] entry", (*cmd).tokenNew},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: lvsbox [--socket PATH | --url https://HOST [--token T | --user U] [--ca FILE | --pin SHA256 | --insecure]] [--json] COMMAND")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-52s %s\n", c.name+" "+c.args, c.help)
	}
	fmt.Fprintln(w, "\nexit codes: 0 ok, 1 error, 2 usage, 3 validation failed, 4 conflict, 5 authentication/permission")
}

// Run executes one lvsbox command line and returns its exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	x := &cmd{env: env}
	fs := flag.NewFlagSet("lvsbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	x.g.register(fs, env)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(env.Stdout)
			return ExitOK
		}
		return x.exit(usageErrorf("%v", err))
	}
	rest := fs.Args()
	if len(rest) == 0 {
		usage(env.Stderr)
		return ExitUsage
	}
	if rest[0] == "help" {
		usage(env.Stdout)
		return ExitOK
	}
	// Two-word commands first ("config apply"), then one-word ones.
	byName := map[string]command{}
	for _, c := range commands() {
		byName[c.name] = c
	}
	if rest[0] == "import" && len(rest) > 1 {
		if _, ok := byName["import "+rest[1]]; ok {
			return x.exit(x.importConverted(ctx, rest[1], rest[2:]))
		}
	}
	if len(rest) > 1 {
		if c, ok := byName[rest[0]+" "+rest[1]]; ok && c.run != nil {
			return x.exit(c.run(x, ctx, rest[2:]))
		}
	}
	if c, ok := byName[rest[0]]; ok && c.run != nil {
		return x.exit(c.run(x, ctx, rest[1:]))
	}
	var subs []string
	for name := range byName {
		if first, sub, ok := strings.Cut(name, " "); ok && first == rest[0] {
			subs = append(subs, sub)
		}
	}
	if len(subs) > 0 {
		sort.Strings(subs)
		return x.exit(usageErrorf("lvsbox %s: want one of: %s", rest[0], strings.Join(subs, ", ")))
	}
	return x.exit(usageErrorf("unknown command %q (try lvsbox help)", rest[0]))
}

// exit prints err and maps it to an exit code.
func (x *cmd) exit(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue usageError
	var ae *APIError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(x.env.Stderr, "lvsbox:", err)
		return ExitUsage
	case errors.Is(err, errInvalid):
		return ExitInvalid // already printed
	case errors.As(err, &ae):
		fmt.Fprintln(x.env.Stderr, "lvsbox:", err)
		switch ae.Status {
		case http.StatusUnprocessableEntity:
			return ExitInvalid
		case http.StatusConflict:
			return ExitConflict
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
			return ExitAuth
		}
		return ExitError
	}
	fmt.Fprintln(x.env.Stderr, "lvsbox:", err)
	return ExitError
}

// flags makes a subcommand flag set that also accepts the global flags.
func (x *cmd) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("lvsbox "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	x.g.registerAgain(fs)
	return fs
}

// registerAgain binds the global flags to fs without resetting their values.
func (g *globals) registerAgain(fs *flag.FlagSet) {
	fs.StringVar(&g.socket, "socket", g.socket, "")
	fs.StringVar(&g.url, "url", g.url, "")
	fs.StringVar(&g.token, "token", g.token, "")
	fs.StringVar(&g.user, "user", g.user, "")
	fs.StringVar(&g.ca, "ca", g.ca, "")
	fs.StringVar(&g.pin, "pin", g.pin, "")
	fs.BoolVar(&g.insecure, "insecure", g.insecure, "")
	fs.BoolVar(&g.json, "json", g.json, "")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "")
}

// parse parses a subcommand's arguments, allowing flags after positional ones, and
// checks the number of positional arguments.
func parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageErrorf("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < minArgs || (maxArgs >= 0 && len(pos) > maxArgs) {
		return nil, usageErrorf("%s: wrong number of arguments %q", fs.Name(), pos)
	}
	return pos, nil
}
