package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/ipvs"
	"github.com/lvsbox/lvsbox/appliance/ipvs/ipvsnl"
)

// The benchmark runs every phase (lvsbox, ipvsadm) of every size in a fresh network
// namespace of its own: the kernel keeps deleted destinations of a namespace in a
// trash list for minutes (IPVS_DEST_TRASH_PERIOD) and walks that list on every
// destination add, so a phase after a big flush in the same namespace would be
// measured against a kernel slowed by the previous one.

// Row keys printed by a phase ("ROW <key> <nanoseconds> [<writes>]") and their
// labels in the table, in table order.
var benchRows = []struct{ key, label string }{
	{"full", "lvsbox: full apply from empty (reconcile, batched)"},
	{"ipvsadm_R", "`ipvsadm -R` of the same rules (from empty)"},
	{"speedup", "speed-up of lvsbox over `ipvsadm -R`"},
	{"read", "lvsbox: read the whole table (1 + N dumps)"},
	{"ipvsadm_S", "`ipvsadm -S -n` of the whole table"},
	{"noop", "lvsbox: no-op reconcile (time / writes)"},
	{"targeted", "lvsbox: +1 real server, reconcile of that service (time / writes)"},
	{"fullone", "lvsbox: +1 real server, full reconcile (time / writes)"},
	{"single", "lvsbox: one write alone (1 op)"},
	{"ipvsadm_C", "`ipvsadm -C` of the full table"},
}

func bench(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizesFlag := fs.String("sizes", "1000x10,10000x4", "table shapes SERVICESxREALS, comma separated")
	window := fs.Int("window", ipvsnl.DefaultWindow, "writes per sendmsg")
	ackEach := fs.Bool("ack-each", false, "have the kernel acknowledge every write, not only the last of each window")
	ipvsadmPath := fs.String("ipvsadm", "/usr/sbin/ipvsadm", "ipvsadm binary to compare with (empty: skip)")
	dir := fs.String("dir", os.TempDir(), "directory for the ipvsadm rules files")
	repeat := fs.Int("repeat", 3, "runs of every phase; the table shows medians")
	if err := fs.Parse(args); err != nil {
		return 2, nil
	}
	if *repeat < 1 {
		return 2, fmt.Errorf("-repeat %d", *repeat)
	}
	sizes, err := ParseSizes(*sizesFlag)
	if err != nil {
		return 2, err
	}
	n, c, err := open(*window)
	if err != nil {
		return 1, err
	}
	i, err := c.Info(ctx)
	n.Close()
	if err != nil {
		return 1, err
	}
	fmt.Fprintf(stdout, "ipvsbench: IPVS %s, kernel %s, batch window %d, ack each %v, ipvsadm %q; "+
		"each phase in a fresh network namespace, %d runs alternating lvsbox and ipvsadm, medians\n",
		i.VersionString(), kernelRelease(), *window, *ackEach, *ipvsadmPath, *repeat)
	res := map[Size]map[string][][]int64{}
	failed := 0
	for run := range *repeat {
		for _, sz := range sizes {
			if res[sz] == nil {
				res[sz] = map[string][][]int64{}
			}
			phases := [][]string{{"-tool", "lvsbox", "-window", strconv.Itoa(*window), "-ack-each=" + strconv.FormatBool(*ackEach)}}
			if *ipvsadmPath != "" {
				phases = append(phases, []string{"-tool", "ipvsadm", "-ipvsadm", *ipvsadmPath, "-dir", *dir})
			}
			if run%2 == 1 {
				slices.Reverse(phases)
			}
			for _, p := range phases {
				args := append([]string{"bench-phase", "-size", sz.String()}, p...)
				var out bytes.Buffer
				code, err := reexecInNewNetns(args, &out, stderr)
				f, perr := parsePhase(&out, stdout, res[sz])
				failed += f
				if err != nil || code != 0 || perr != nil {
					return 1, fmt.Errorf("bench %s %s: exit %d: %v %v", sz, p[1], code, err, perr)
				}
			}
		}
	}
	fmt.Fprintln(stdout)
	printTable(stdout, sizes, res)
	if failed > 0 {
		return 1, nil
	}
	return 0, nil
}

// parsePhase copies the lines of a phase but its ROW lines to w, appends the ROW
// values to rows, and returns the number of failed checks.
func parsePhase(r io.Reader, w io.Writer, rows map[string][][]int64) (int, error) {
	failed := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch f := strings.Fields(line); {
		case len(f) >= 3 && f[0] == "ROW":
			var vals []int64
			for _, s := range f[2:] {
				v, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return failed, fmt.Errorf("bad line %q", line)
				}
				vals = append(vals, v)
			}
			rows[f[1]] = append(rows[f[1]], vals)
		case len(f) >= 3 && f[0] == "CHECK":
			if f[2] != "ok" {
				failed++
			}
			fmt.Fprintln(w, line)
		default:
			fmt.Fprintln(w, line)
		}
	}
	return failed, sc.Err()
}

func printTable(w io.Writer, sizes []Size, res map[Size]map[string][][]int64) {
	fmt.Fprint(w, "| step |")
	for _, sz := range sizes {
		fmt.Fprintf(w, " %s |", sz)
	}
	fmt.Fprint(w, "\n|---|")
	for range sizes {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, row := range benchRows {
		fmt.Fprintf(w, "| %s |", row.label)
		for _, sz := range sizes {
			fmt.Fprintf(w, " %s |", cell(row.key, res[sz]))
		}
		fmt.Fprintln(w)
	}
}

func medianDur(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[(len(s)-1)/2]
}

// median returns the sample with the median first value (time).
func median(samples [][]int64) []int64 {
	if len(samples) == 0 {
		return nil
	}
	s := slices.SortedFunc(slices.Values(samples), func(a, b []int64) int { return cmpInt(a[0], b[0]) })
	return s[(len(s)-1)/2]
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cell(key string, rows map[string][][]int64) string {
	if key == "speedup" {
		a, b := median(rows["ipvsadm_R"]), median(rows["full"])
		if len(a) == 0 || len(b) == 0 || b[0] == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1fx", float64(a[0])/float64(b[0]))
	}
	v := median(rows[key])
	switch len(v) {
	case 0:
		return "-"
	case 1:
		return dur(time.Duration(v[0]))
	}
	return fmt.Sprintf("%s / %d", dur(time.Duration(v[0])), v[1])
}

// benchPhase is one phase of one size, run in its own network namespace by bench.
func benchPhase(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("bench-phase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizeFlag := fs.String("size", "", "SERVICESxREALS")
	tool := fs.String("tool", "lvsbox", "lvsbox or ipvsadm")
	window := fs.Int("window", ipvsnl.DefaultWindow, "writes per sendmsg")
	ackEach := fs.Bool("ack-each", false, "acknowledge every write")
	ipvsadmPath := fs.String("ipvsadm", "/usr/sbin/ipvsadm", "ipvsadm binary")
	dir := fs.String("dir", os.TempDir(), "directory for the rules file")
	if err := fs.Parse(args); err != nil {
		return 2, nil
	}
	sizes, err := ParseSizes(*sizeFlag)
	if err != nil || len(sizes) != 1 {
		return 2, fmt.Errorf("-size: %v", err)
	}
	n, c, err := open(*window)
	if err != nil {
		return 1, err
	}
	defer n.Close()
	c.SetAckEach(*ackEach)
	chk := &checker{w: stdout}
	switch *tool {
	case "lvsbox":
		err = phaseLvsbox(ctx, n, sizes[0], stdout, chk)
	case "ipvsadm":
		err = phaseIpvsadm(ctx, n, sizes[0], *ipvsadmPath, *dir, stdout, chk)
	default:
		return 2, fmt.Errorf("-tool %q", *tool)
	}
	if err != nil {
		return 1, err
	}
	return chk.code(), nil
}

func row(w io.Writer, key string, d time.Duration, writes ...int) {
	fmt.Fprintf(w, "ROW %s %d", key, d.Nanoseconds())
	for _, n := range writes {
		fmt.Fprintf(w, " %d", n)
	}
	fmt.Fprintln(w)
}

// timed runs fn and returns how long it took.
func timed(fn func() error) (time.Duration, error) {
	t0 := time.Now()
	err := fn()
	return time.Since(t0), err
}

func opsErrors(res ipvs.Result) error {
	if len(res.Errors) == 0 {
		return nil
	}
	return fmt.Errorf("%d write errors, first: %v", len(res.Errors), res.Errors[0])
}

func phaseLvsbox(ctx context.Context, n *ipvs.Netlink, sz Size, w io.Writer, chk *checker) error {
	name := func(s string) string { return fmt.Sprintf("bench/%s/%s", sz, s) }
	desired := Table(sz)
	objects := Objects(desired)
	r := &ipvs.Reconciler{Kernel: n}

	// Full apply from an empty table.
	var res ipvs.Result
	d, err := timed(func() (err error) { res, err = r.Reconcile(ctx, desired); return err })
	if err != nil {
		return err
	}
	row(w, "full", d, res.Writes)
	chk.check(name("full_apply"), func() (string, error) {
		if err := opsErrors(res); err != nil {
			return "", err
		}
		if res.Writes != objects {
			return "", fmt.Errorf("%d writes for %d objects", res.Writes, objects)
		}
		return fmt.Sprintf("%d writes in %s", res.Writes, dur(d)), nil
	})

	// Read it back: the kernel must hold exactly the desired table.
	var obs []ipvs.ServiceState
	d, err = timed(func() (err error) { obs, err = n.Services(ctx); return err })
	if err != nil {
		return err
	}
	row(w, "read", d)
	chk.check(name("read_back"), func() (string, error) { return sameTable(desired, obs) })

	// No-op reconcile.
	d, err = timed(func() (err error) { res, err = r.Reconcile(ctx, desired); return err })
	if err != nil {
		return err
	}
	row(w, "noop", d, res.Writes)
	chk.check(name("noop_zero_writes"), func() (string, error) {
		if res.Writes != 0 || len(res.Ops) != 0 {
			return "", fmt.Errorf("%d writes, %d ops", res.Writes, len(res.Ops))
		}
		return "0 writes", nil
	})

	// One real server added, reconciling only that service: five times, on services
	// spread over the table, the median reported (a single sample may meet the
	// kernel's 2 s estimator tick).
	extra := netip.MustParseAddr("198.18.0.1")
	var (
		times  []time.Duration
		writes int
	)
	for k := range 5 {
		j := (2*k + 1) * len(desired) / 10
		desired[j].Destinations = append(desired[j].Destinations, ipvs.Destination{
			Key: ipvs.DestinationKey{Addr: extra, Port: uint16(8080 + k)}, Forwarding: ipvs.NAT, Weight: 1})
		d, err = timed(func() (err error) {
			res, err = r.ReconcileServices(ctx, desired, []ipvs.ServiceKey{desired[j].Key})
			return err
		})
		if err != nil {
			return err
		}
		times = append(times, d)
		if err := opsErrors(res); err != nil || res.Writes != 1 || res.Ops[0].Kind != ipvs.AddDestination {
			chk.check(name("one_change_targeted"), func() (string, error) { return "", fmt.Errorf("%d writes: %v %v", res.Writes, res.Ops, err) })
			return nil
		}
		writes += res.Writes
	}
	d = medianDur(times)
	row(w, "targeted", d, writes/len(times))
	chk.check(name("one_change_targeted"), func() (string, error) {
		return fmt.Sprintf("1 write each, %v", times), nil
	})

	// Another one, found by a full pass.
	desired[0].Destinations = append(desired[0].Destinations, ipvs.Destination{
		Key: ipvs.DestinationKey{Addr: extra, Port: 9000}, Forwarding: ipvs.NAT, Weight: 1})
	d, err = timed(func() (err error) { res, err = r.Reconcile(ctx, desired); return err })
	if err != nil {
		return err
	}
	row(w, "fullone", d, res.Writes)
	chk.check(name("one_change_full"), func() (string, error) {
		if err := opsErrors(res); err != nil {
			return "", err
		}
		if res.Writes != 1 {
			return "", fmt.Errorf("%d writes: %v", res.Writes, res.Ops)
		}
		return "1 write", nil
	})

	// One write on its own (the round trip of a single op), five times, median.
	times = times[:0]
	for k := range 5 {
		dst := desired[0].Destinations[0]
		dst.Weight = 2 + k
		var errs []error
		d, _ = timed(func() error {
			errs = n.Apply(ctx, []ipvs.Op{{Kind: ipvs.UpdateDestination, Service: desired[0].Service, Dest: dst}})
			return nil
		})
		if errs[0] != nil {
			chk.check(name("single_write"), func() (string, error) { return "", errs[0] })
			return nil
		}
		times = append(times, d)
	}
	row(w, "single", medianDur(times))
	chk.check(name("single_write"), func() (string, error) { return fmt.Sprint(times), nil })
	// Empty the table before the namespace goes: the kernel then frees it while this
	// phase still runs, not while the next one is measured.
	c, err := n.Conn()
	if err != nil {
		return err
	}
	return c.Flush(ctx)
}

// phaseIpvsadm times `ipvsadm -R` of the rules of the benchmark table into the
// empty table, checks the result equals the table, then times `ipvsadm -S -n` and
// `ipvsadm -C`.
func phaseIpvsadm(ctx context.Context, n *ipvs.Netlink, sz Size, ipvsadmPath, dir string, w io.Writer, chk *checker) error {
	desired := Table(sz)
	rules, err := IpvsadmRules(desired)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, fmt.Sprintf("ipvsbench-%s.rules", sz))
	if err := os.WriteFile(path, []byte(rules), 0o600); err != nil {
		return err
	}
	defer os.Remove(path)
	d, err := timed(func() error { return ipvsadm(ctx, ipvsadmPath, path, "-R") })
	if err != nil {
		return err
	}
	row(w, "ipvsadm_R", d)
	obs, err := n.Services(ctx)
	if err != nil {
		return err
	}
	chk.check(fmt.Sprintf("bench/%s/ipvsadm_same_table", sz), func() (string, error) { return sameTable(desired, obs) })
	d, err = timed(func() error { return ipvsadm(ctx, ipvsadmPath, "", "-S", "-n") })
	if err != nil {
		return err
	}
	row(w, "ipvsadm_S", d)
	d, err = timed(func() error { return ipvsadm(ctx, ipvsadmPath, "", "-C") })
	if err != nil {
		return err
	}
	row(w, "ipvsadm_C", d)
	return nil
}

// ipvsadm runs the ipvsadm binary with stdin from the file stdin (if not empty),
// discarding its output unless it fails.
func ipvsadm(ctx context.Context, bin, stdin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var errOut strings.Builder
	cmd.Stdout = io.Discard
	cmd.Stderr = &errOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return nil
}

// sameTable reports whether the kernel (observed) holds exactly desired.
func sameTable(desired, observed []ipvs.ServiceState) (string, error) {
	ops := ipvs.Diff(desired, observed)
	if len(ops) != 0 {
		return "", fmt.Errorf("%d differences, first: %s", len(ops), ops[0])
	}
	return fmt.Sprintf("%d services, %d objects match", len(observed), Objects(observed)), nil
}
