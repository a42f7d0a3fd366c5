package cli

import (
	"context"
	"net/url"
	"os"
)

// rsScript prints (or writes) the real-server script of a service.
func (x *cmd) rsScript(ctx context.Context, args []string) error {
	fs := x.flags("rs-script")
	out := fs.String("o", "", "write to FILE (mode 0755) instead of stdout")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	data, err := c.get(ctx, "/api/v1/services/"+url.PathEscape(pos[0])+"/realserver-script", nil)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = x.env.Stdout.Write(data)
		return err
	}
	return os.WriteFile(*out, data, 0o755)
}
