package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp/vrlab"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vrrpbench:", err)
		os.Exit(1)
	}
}

type options struct {
	runs      int
	intervals []time.Duration
	jitter    time.Duration
	hog       time.Duration
	rt        int
	kaRT      int
	vrrpd     string
	dir       string
	verbose   bool
}

func run() error {
	if len(os.Args) > 1 && os.Args[1] == "hog" {
		return hog(os.Args[2:])
	}
	var o options
	var ivs string
	flag.IntVar(&o.runs, "runs", 5, "failover and clean-stop runs per implementation and interval")
	flag.StringVar(&ivs, "intervals", "1s,100ms,30ms", "advert intervals (v3) for the failover runs")
	flag.DurationVar(&o.jitter, "jitter", 60*time.Second, "idle jitter window (0: skip the jitter part)")
	flag.DurationVar(&o.hog, "hog", 120*time.Second, "jitter window under the CPU hog (0: skip)")
	flag.IntVar(&o.rt, "rt", 0, "run lvsbox's vrrpd with -rt N (SCHED_RR)")
	flag.IntVar(&o.kaRT, "ka-rt", 0, "run keepalived with vrrp_rt_priority N (SCHED_RR)")
	flag.StringVar(&o.vrrpd, "vrrpd", "", "vrrpd binary (default: go build it)")
	flag.StringVar(&o.dir, "dir", "", "lab directory for logs and captures (default: a temp dir, removed)")
	flag.BoolVar(&o.verbose, "v", false, "progress on stderr")
	flag.Parse()
	for _, s := range strings.Split(ivs, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-intervals: %w", err)
		}
		o.intervals = append(o.intervals, d)
	}
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces)")
	}
	for _, tool := range []string{"ip", "tcpdump", "keepalived"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not installed", tool)
		}
	}
	if o.dir == "" {
		d, err := os.MkdirTemp("", "vrrpbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.dir = d
	}
	if o.vrrpd == "" {
		o.vrrpd = filepath.Join(o.dir, "vrrpd")
		if out, err := exec.Command("go", "build", "-o", o.vrrpd, "github.com/lvsbox/lvsbox/appliance/vrrp/cmd/vrrpd").CombinedOutput(); err != nil {
			return fmt.Errorf("build vrrpd: %w: %s", err, out)
		}
	}
	vrlab.Sweep()
	b := &bench{o: o}
	return b.all()
}

// hog keeps n cores busy for d (or until killed).
func hog(args []string) error {
	fs := flag.NewFlagSet("hog", flag.ContinueOnError)
	n := fs.Int("n", runtime.NumCPU(), "busy goroutines")
	d := fs.Duration("d", time.Minute, "how long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	runtime.GOMAXPROCS(*n)
	end := time.Now().Add(*d)
	done := make(chan struct{})
	for i := 0; i < *n; i++ {
		go func() {
			x := uint64(i + 1)
			for time.Now().Before(end) {
				for j := 0; j < 1_000_000; j++ {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			if x == 0 {
				fmt.Println(x)
			}
			done <- struct{}{}
		}()
	}
	for i := 0; i < *n; i++ {
		<-done
	}
	return nil
}
