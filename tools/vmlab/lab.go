package vmlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Prefix starts the name of every namespace a lab creates; Sweep removes
// stale ones by it.
const Prefix = "lvl"

// Config configures a new Lab. The zero value is usable.
type Config struct {
	// Keep leaves the namespaces, guests and processes running on Close
	// (for debugging); Close then only logs how to reach and remove them.
	Keep bool
	// Logger receives progress and the commands run (default: slog.Default).
	Logger *slog.Logger
}

// Lab is one throwaway network namespace with one bridge per segment, plus
// the guests and host namespaces attached to those segments.
type Lab struct {
	// Name is the lab namespace (also the prefix of its host namespaces).
	Name string
	// Dir holds sockets, seeds and log files of this lab.
	Dir string

	keep bool
	log  *slog.Logger

	mu       sync.Mutex
	segments map[string]string // segment name -> bridge name
	hosts    []*Host
	guests   []*Guest
	cmdLog   *os.File
	closing  bool           // set when Close starts; no new hosts or guests then
	names    map[string]int // "host/rs1", "guest/lb" -> index among its kind
	counts   map[string]int // kind -> names reserved

	closeOnce sync.Once // concurrent Close calls wait for the first
	closeErr  error
}

var (
	labSeq   atomic.Int64
	labsMu   sync.Mutex
	liveLabs = map[*Lab]struct{}{}
)

// New creates the lab namespace (named Prefix-<pid>-<n>) and a directory
// for its files. Close removes both.
func New(ctx context.Context, cfg Config) (*Lab, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	name := fmt.Sprintf("%s-%d-%d", Prefix, os.Getpid(), labSeq.Add(1))
	dir, err := os.MkdirTemp("", name+"-")
	if err != nil {
		return nil, fmt.Errorf("vmlab: lab dir: %w", err)
	}
	cmdLog, err := os.Create(filepath.Join(dir, "lab.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("vmlab: lab log: %w", err)
	}
	l := &Lab{Name: name, Dir: dir, keep: cfg.Keep, log: log.With("lab", name),
		segments: map[string]string{}, cmdLog: cmdLog, names: map[string]int{}, counts: map[string]int{}}
	if _, err := l.ip(ctx, "netns", "add", name); err != nil {
		cmdLog.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	labsMu.Lock()
	liveLabs[l] = struct{}{}
	labsMu.Unlock()
	if _, err := l.ip(ctx, "-n", name, "link", "set", "lo", "up"); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	l.log.Debug("lab created", "dir", dir)
	return l, nil
}

// run runs a host command, records it in lab.log and returns its combined
// output; a failure carries the output.
func (l *Lab) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	line := name + " " + strings.Join(args, " ")
	l.mu.Lock()
	if l.cmdLog != nil {
		fmt.Fprintf(l.cmdLog, "%s $ %s\n%s", time.Now().Format("15:04:05.000"), line, out)
		if err != nil {
			fmt.Fprintf(l.cmdLog, "-> %v\n", err)
		}
	}
	l.mu.Unlock()
	if err != nil {
		return out, fmt.Errorf("vmlab: %s: %w: %s", line, err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func (l *Lab) ip(ctx context.Context, args ...string) ([]byte, error) {
	return l.run(ctx, "ip", args...)
}

// Segment returns the bridge of the named segment, creating it (no STP, no
// forward delay, no multicast snooping, up) on first use.
func (l *Lab) Segment(ctx context.Context, name string) (string, error) {
	l.mu.Lock()
	br, ok := l.segments[name]
	if !ok {
		br = fmt.Sprintf("br%d", len(l.segments))
		l.segments[name] = br
	}
	l.mu.Unlock()
	if ok {
		return br, nil
	}
	if _, err := l.ip(ctx, "-n", l.Name, "link", "add", br, "type", "bridge",
		"forward_delay", "0", "stp_state", "0", "mcast_snooping", "0"); err != nil {
		return "", fmt.Errorf("vmlab: segment %s: %w", name, err)
	}
	if _, err := l.ip(ctx, "-n", l.Name, "link", "set", br, "up"); err != nil {
		return "", fmt.Errorf("vmlab: segment %s: %w", name, err)
	}
	return br, nil
}

// attach puts link dev of the lab namespace on the segment and brings it up.
func (l *Lab) attach(ctx context.Context, dev, segment string) error {
	br, err := l.Segment(ctx, segment)
	if err != nil {
		return err
	}
	if _, err := l.ip(ctx, "-n", l.Name, "link", "set", dev, "master", br); err != nil {
		return err
	}
	_, err = l.ip(ctx, "-n", l.Name, "link", "set", dev, "up")
	return err
}

// errClosing refuses new hosts and guests once Close has started.
var errClosing = errors.New("lab is closing")

// reserve claims a unique name of a kind ("host", "guest") and returns its
// index among that kind, used for tap, veth and MAC names.
func (l *Lab) reserve(kind, name string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return 0, fmt.Errorf("vmlab: %s %s: %w", kind, name, errClosing)
	}
	key := kind + "/" + name
	if _, ok := l.names[key]; ok {
		return 0, fmt.Errorf("vmlab: %s %q exists", kind, name)
	}
	n := l.counts[kind]
	l.counts[kind]++
	l.names[key] = n
	return n, nil
}

// Guests returns the guests started so far.
func (l *Lab) Guests() []*Guest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Guest(nil), l.guests...)
}

// Hosts returns the host namespaces created so far.
func (l *Lab) Hosts() []*Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Host(nil), l.hosts...)
}

// Close stops every guest and process and deletes every namespace of the
// lab and its directory. With Config.Keep it leaves everything running and
// logs how to reach and remove it instead. Close is idempotent; concurrent
// calls (a test's cleanup and a signal handler) all wait for the first.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() {
		l.closeErr = l.close()
		labsMu.Lock()
		delete(liveLabs, l)
		labsMu.Unlock()
	})
	return l.closeErr
}

func (l *Lab) close() error {
	l.mu.Lock()
	l.closing = true
	hosts, guests := l.hosts, l.guests
	l.mu.Unlock()
	if l.keep {
		l.logKept(hosts, guests)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, g := range guests {
		errs = append(errs, g.stop(5*time.Second))
	}
	for _, h := range hosts {
		errs = append(errs, h.stopAll(3*time.Second))
	}
	for _, h := range hosts {
		errs = append(errs, l.deleteNetns(ctx, h.NS))
	}
	errs = append(errs, l.deleteNetns(ctx, l.Name))
	l.mu.Lock()
	l.cmdLog.Close()
	l.cmdLog = nil
	l.mu.Unlock()
	errs = append(errs, os.RemoveAll(l.Dir))
	return errors.Join(errs...)
}

// deleteNetns kills whatever still runs inside namespace ns, then deletes
// it (its links go with it; a veth's peer in another namespace too).
func (l *Lab) deleteNetns(ctx context.Context, ns string) error {
	killNetnsPids(ctx, ns)
	_, err := l.ip(ctx, "netns", "del", ns)
	return err
}

func (l *Lab) logKept(hosts []*Host, guests []*Guest) {
	var b strings.Builder
	fmt.Fprintf(&b, "vmlab: LVSBOX_KEEP_LAB: lab %s left running (files in %s)\n", l.Name, l.Dir)
	for _, g := range guests {
		fmt.Fprintf(&b, "  guest %s: qemu pid %d, console: socat -,rawer,escape=0x0f UNIX-CONNECT:%s (Ctrl-O quits), qmp: %s\n",
			g.Name, g.Pid(), g.consolePath, g.qmpPath)
	}
	for _, h := range hosts {
		fmt.Fprintf(&b, "  host %s: ip netns exec %s sh\n", h.Name, h.NS)
	}
	fmt.Fprintf(&b, "  remove: kill the qemu pids, then: ip netns del %s", l.Name)
	for _, h := range hosts {
		fmt.Fprintf(&b, "; ip netns del %s", h.NS)
	}
	b.WriteString("\n  (the next root test run sweeps it too)\n")
	fmt.Fprint(os.Stderr, b.String())
}

// CloseAll closes every lab of this process that is still open (for signal
// handlers and TestMain).
func CloseAll() error {
	labsMu.Lock()
	labs := make([]*Lab, 0, len(liveLabs))
	for l := range liveLabs {
		labs = append(labs, l)
	}
	labsMu.Unlock()
	var errs []error
	for _, l := range labs {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}
