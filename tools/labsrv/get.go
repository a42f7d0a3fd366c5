package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// tally counts request outcomes and prints one line per request.
type tally struct {
	w       io.Writer
	ok, bad int
}

func (t *tally) record(body string, err error) {
	if err != nil {
		t.bad++
		fmt.Fprintf(t.w, "err %v\n", err)
		return
	}
	t.ok++
	fmt.Fprintf(t.w, "ok %s\n", body)
}

func (t *tally) summary() error {
	fmt.Fprintf(t.w, "summary ok=%d err=%d\n", t.ok, t.bad)
	if t.bad > 0 {
		return fmt.Errorf("get: %d of %d requests failed", t.bad, t.ok+t.bad)
	}
	return nil
}

// fetch makes one GET on a new connection and returns the trimmed body.
func fetch(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	return strings.TrimSpace(string(b)), nil
}

func get(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	n := fs.Int("n", 1, "number of requests; 0 loops until SIGTERM/SIGINT")
	interval := fs.Duration("interval", 0, "pause between requests")
	timeout := fs.Duration("timeout", 3*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("get: want exactly one URL")
	}
	url := fs.Arg(0)
	c := &http.Client{
		Timeout:   *timeout,
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	}
	t := &tally{w: stdout}
	for i := 0; *n == 0 || i < *n; i++ {
		if ctx.Err() != nil {
			break
		}
		body, err := fetch(ctx, c, url)
		if ctx.Err() != nil {
			break // interrupted mid-request: not a failure of the service
		}
		t.record(body, err)
		if *interval > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(*interval):
			}
		}
	}
	return t.summary()
}
