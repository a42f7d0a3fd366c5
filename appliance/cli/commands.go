package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/lvsbox/lvsbox/appliance/api"
)

// printJSON writes an API answer as it came (it is already indented).
func (x *cmd) printJSON(data []byte) {
	x.env.Stdout.Write(data)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		fmt.Fprintln(x.env.Stdout)
	}
}

func (x *cmd) status(ctx context.Context, args []string) error {
	if _, err := parse(x.flags("status"), args, 0, 0); err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	var doc api.Document
	data, err := c.get(ctx, "/api/v1/status", &doc)
	if err != nil {
		return err
	}
	if x.g.json {
		x.printJSON(data)
		return nil
	}
	writeStatus(x.env.Stdout, doc)
	return nil
}

func (x *cmd) ipvs(ctx context.Context, args []string) error {
	if _, err := parse(x.flags("ipvs"), args, 0, 0); err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	var doc api.Document
	if _, err := c.get(ctx, "/api/v1/status", &doc); err != nil {
		return err
	}
	if x.g.json {
		out, _ := json.MarshalIndent(doc.IPVS, "", "  ")
		x.printJSON(out)
		return nil
	}
	if !doc.IPVS.Available {
		return fmt.Errorf("IPVS is not available: %s", doc.IPVS.Error)
	}
	writeIPVS(x.env.Stdout, doc.IPVS.Services)
	return nil
}

func (x *cmd) configGet(ctx context.Context, args []string) error {
	fs := x.flags("config get")
	rev := fs.String("revision", "", "revision number (default: current)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	path := "/api/v1/config"
	if *rev != "" {
		if _, err := strconv.ParseUint(*rev, 10, 64); err != nil {
			return usageErrorf("config get: --revision %q is not a number", *rev)
		}
		path = "/api/v1/revisions/" + *rev
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	var cr api.ConfigResponse
	data, err := c.get(ctx, path, &cr)
	if err != nil {
		return err
	}
	if x.g.json {
		x.printJSON(data)
		return nil
	}
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(compact(cr.Config)), "", "  "); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	x.printJSON(b.Bytes())
	return nil
}

// readDoc reads FILE ("-" for stdin).
func (x *cmd) readDoc(name string) ([]byte, error) {
	if name == "" {
		return nil, usageErrorf("-f FILE is required")
	}
	if name == "-" {
		return io.ReadAll(x.env.Stdin)
	}
	return os.ReadFile(name)
}

// exportDoc is the shape of `lvsbox export`: apply accepts it and takes its revision
// as the base, so an export-edit-apply round trip is protected against concurrent
// changes.
type exportDoc struct {
	Schema   *int            `json:"schema"`
	Revision *uint64         `json:"revision"`
	Config   json.RawMessage `json:"config"`
}

func splitExport(data []byte) (cfg json.RawMessage, base *uint64) {
	var doc exportDoc
	if json.Unmarshal(data, &doc) == nil && doc.Schema != nil && doc.Config != nil {
		return doc.Config, doc.Revision
	}
	return data, nil
}

// currentRevision asks the daemon for the current revision number.
func (x *cmd) currentRevision(ctx context.Context, c *Client) (api.RevisionInfo, error) {
	var cr api.ConfigResponse
	if _, err := c.get(ctx, "/api/v1/config", &cr); err != nil {
		return api.RevisionInfo{}, err
	}
	return cr.Revision, nil
}

func (x *cmd) configApply(ctx context.Context, args []string) error {
	fs := x.flags("config apply")
	file := fs.String("f", "", "configuration file, or - for stdin")
	confirm := fs.Duration("confirm", 0, "commit-confirmed: roll back unless confirmed within this time")
	comment := fs.String("comment", "", "why")
	baseStr := fs.String("base", "", "revision the change is based on (default: the export document's, else the current one)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	data, err := x.readDoc(*file)
	if err != nil {
		return err
	}
	cfg, base := splitExport(data)
	if *baseStr != "" {
		n, err := strconv.ParseUint(*baseStr, 10, 64)
		if err != nil {
			return usageErrorf("config apply: --base %q is not a number", *baseStr)
		}
		base = &n
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	if base == nil {
		cur, err := x.currentRevision(ctx, c)
		if err != nil {
			return err
		}
		base = &cur.Number
	}
	req := api.ApplyRequest{BaseRevision: base, Comment: *comment, Config: cfg}
	if *confirm > 0 {
		req.ConfirmWithin = confirm.String()
	}
	out, err := c.do(ctx, http.MethodPut, "/api/v1/config", req)
	if err != nil {
		return err
	}
	return x.committed(out, "committed")
}

// committed prints a CommitResponse.
func (x *cmd) committed(data []byte, verb string) error {
	if x.g.json {
		x.printJSON(data)
		return nil
	}
	var cr api.CommitResponse
	if err := json.Unmarshal(data, &cr); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	writeCommitted(x.env.Stdout, verb, cr)
	return nil
}

func (x *cmd) configValidate(ctx context.Context, args []string) error {
	fs := x.flags("config validate")
	file := fs.String("f", "", "configuration file, or - for stdin")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	data, err := x.readDoc(*file)
	if err != nil {
		return err
	}
	cfg, _ := splitExport(data)
	c, err := x.client()
	if err != nil {
		return err
	}
	out, err := c.do(ctx, http.MethodPost, "/api/v1/config/validate", api.ValidateRequest{Config: cfg})
	if err != nil {
		return err
	}
	var vr api.ValidateResponse
	if err := json.Unmarshal(out, &vr); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	if x.g.json {
		x.printJSON(out)
	} else {
		writeValidation(x.env.Stdout, vr)
	}
	if !vr.Valid {
		return errInvalid
	}
	return nil
}

func revArg(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, usageErrorf("%q is not a revision number", s)
	}
	return n, nil
}

func (x *cmd) configDiff(ctx context.Context, args []string) error {
	pos, err := parse(x.flags("config diff"), args, 2, 2)
	if err != nil {
		return err
	}
	a, err := revArg(pos[0])
	if err != nil {
		return err
	}
	b, err := revArg(pos[1])
	if err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	var dr api.DiffResponse
	data, err := c.get(ctx, fmt.Sprintf("/api/v1/revisions/%d/diff/%d", a, b), &dr)
	if err != nil {
		return err
	}
	if x.g.json {
		x.printJSON(data)
		return nil
	}
	writeDiff(x.env.Stdout, dr)
	return nil
}

func (x *cmd) configHistory(ctx context.Context, args []string) error {
	fs := x.flags("config history")
	limit := fs.Int("limit", 20, "how many revisions")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	var rr api.RevisionsResponse
	data, err := c.get(ctx, "/api/v1/revisions?limit="+strconv.Itoa(*limit), &rr)
	if err != nil {
		return err
	}
	if x.g.json {
		x.printJSON(data)
		return nil
	}
	writeHistory(x.env.Stdout, rr.Revisions)
	return nil
}

func (x *cmd) configRollback(ctx context.Context, args []string) error {
	fs := x.flags("config rollback")
	confirm := fs.Duration("confirm", 0, "commit-confirmed: undo unless confirmed within this time")
	comment := fs.String("comment", "", "why (default: rollback to revision N)")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	n, err := revArg(pos[0])
	if err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	req := api.RollbackRequest{Comment: *comment}
	if *confirm > 0 {
		req.ConfirmWithin = confirm.String()
	}
	out, err := c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/revisions/%d/rollback", n), req)
	if err != nil {
		return err
	}
	return x.committed(out, "committed")
}

func (x *cmd) configConfirm(ctx context.Context, args []string) error {
	pos, err := parse(x.flags("config confirm"), args, 0, 1)
	if err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	var n uint64
	if len(pos) == 1 {
		if n, err = revArg(pos[0]); err != nil {
			return err
		}
	} else {
		cur, err := x.currentRevision(ctx, c)
		if err != nil {
			return err
		}
		if !cur.Pending() {
			return &APIError{Status: http.StatusConflict, Message: fmt.Sprintf("nothing to confirm: the current revision %d is not pending", cur.Number)}
		}
		n = cur.Number
	}
	out, err := c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/revisions/%d/confirm", n), struct{}{})
	if err != nil {
		return err
	}
	return x.committed(out, "confirmed")
}

func (x *cmd) export(ctx context.Context, args []string) error {
	fs := x.flags("export")
	out := fs.String("o", "", "write to FILE instead of stdout")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	data, err := c.get(ctx, "/api/v1/export", nil)
	if err != nil {
		return err
	}
	if *out == "" {
		x.printJSON(data)
		return nil
	}
	return os.WriteFile(*out, data, 0o600)
}

func (x *cmd) importFile(ctx context.Context, args []string) error {
	fs := x.flags("import")
	confirm := fs.Duration("confirm", 0, "commit-confirmed: roll back unless confirmed within this time")
	comment := fs.String("comment", "", "why")
	baseStr := fs.String("base", "", "revision the change is based on (default: the current one)")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	data, err := x.readDoc(pos[0])
	if err != nil {
		return err
	}
	return x.postImport(ctx, data, *baseStr, *comment, *confirm)
}

func (x *cmd) postImport(ctx context.Context, data []byte, baseStr, comment string, confirm time.Duration) error {
	c, err := x.client()
	if err != nil {
		return err
	}
	if baseStr == "" {
		cur, err := x.currentRevision(ctx, c)
		if err != nil {
			return err
		}
		baseStr = strconv.FormatUint(cur.Number, 10)
	} else if _, err := strconv.ParseUint(baseStr, 10, 64); err != nil {
		return usageErrorf("import: --base %q is not a number", baseStr)
	}
	q := url.Values{"base_revision": {baseStr}}
	if comment != "" {
		q.Set("comment", comment)
	}
	if confirm > 0 {
		q.Set("confirm_within", confirm.String())
	}
	out, err := c.do(ctx, http.MethodPost, "/api/v1/import?"+q.Encode(), data)
	if err != nil {
		return err
	}
	return x.committed(out, "imported")
}

// importConverted runs `lvsbox import KIND FILE`: a converter turns FILE into a
// configuration, which is then imported (or printed with --dry-run).
func (x *cmd) importConverted(ctx context.Context, kind string, args []string) error {
	fs := x.flags("import " + kind)
	confirm := fs.Duration("confirm", 0, "commit-confirmed: roll back unless confirmed within this time")
	comment := fs.String("comment", "", "why (default: import from KIND FILE)")
	baseStr := fs.String("base", "", "revision the change is based on (default: the current one)")
	dry := fs.Bool("dry-run", false, "print the converted configuration instead of importing it")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	conv := x.env.Converters[kind]
	if conv == nil {
		return fmt.Errorf("import %s: this build has no %s converter", kind, kind)
	}
	doc, notes, err := conv.Convert(pos[0])
	for _, n := range notes {
		fmt.Fprintln(x.env.Stderr, "note:", n)
	}
	if err != nil {
		return fmt.Errorf("import %s %s: %w", kind, pos[0], err)
	}
	if *dry {
		var buf bytes.Buffer
		if json.Indent(&buf, doc, "", "  ") == nil {
			doc = buf.Bytes()
		}
		x.printJSON(doc)
		return nil
	}
	if *comment == "" {
		*comment = "import from " + kind + " " + pos[0]
	}
	return x.postImport(ctx, doc, *baseStr, *comment, *confirm)
}
