package vmlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// NIC is one guest network interface (virtio-net unless Model says
// otherwise, on a tap in the lab namespace). Guest NICs appear as eth0,
// eth1, ... in order.
type NIC struct {
	Segment string
	// MAC overrides the default 52:54:00:4c:<guest>:<nic>.
	MAC string
	// Model is the QEMU NIC device (default "virtio-net-pci"; e.g. "e1000").
	// The guest names NICs in driver load order: the board loads virtio_net
	// before e1000, so list virtio NICs first to keep eth<i> = NICs[i].
	Model string
}

// GuestConfig describes one lvsbox guest.
type GuestConfig struct {
	// Name is short and unique in the lab ([a-z0-9]).
	Name  string
	Image Image
	NICs  []NIC
	// Seed, if set, is passed as fw_cfg item opt/lvsbox/seed.json.
	Seed []byte
	// MemoryMB defaults to 512.
	MemoryMB int
	// Append is added to the image's kernel command line.
	Append string
	// ExtraArgs are appended to the QEMU command line.
	ExtraArgs []string
}

// SeedFwCfgName is the fw_cfg item the seed config is passed as.
const SeedFwCfgName = "opt/lvsbox/seed.json"

// Guest is a running QEMU guest.
type Guest struct {
	Name string
	// Console holds the serial console output.
	Console *Console
	// Shell types commands into the rescue shell on the console.
	Shell *Shell

	cmd         *exec.Cmd
	consolePath string
	qmpPath     string

	done     chan struct{}
	exitCode int   // valid after done
	exitErr  error // valid after done

	mu      sync.Mutex // guards conn and stopped
	conn    net.Conn
	stopped bool
}

var guestNameRE = regexp.MustCompile(`^[a-z0-9]{1,12}$`)

// StartGuest creates the guest's taps, starts QEMU (TCG) inside the lab
// namespace and connects to its serial console. QEMU waits for that
// connection, so the console holds the whole boot.
func (l *Lab) StartGuest(ctx context.Context, cfg GuestConfig) (*Guest, error) {
	if !guestNameRE.MatchString(cfg.Name) {
		return nil, fmt.Errorf("vmlab: guest name %q: want 1-12 of [a-z0-9]", cfg.Name)
	}
	if cfg.Image.Kernel == "" || cfg.Image.Initrd == "" {
		return nil, fmt.Errorf("vmlab: guest %s: image without kernel or initrd", cfg.Name)
	}
	gi, err := l.reserve("guest", cfg.Name)
	if err != nil {
		return nil, err
	}

	g := &Guest{
		Name:        cfg.Name,
		Console:     NewConsole(0),
		consolePath: filepath.Join(l.Dir, cfg.Name+".console.sock"),
		qmpPath:     filepath.Join(l.Dir, cfg.Name+".qmp.sock"),
		done:        make(chan struct{}),
	}
	args, err := l.guestArgs(ctx, gi, g, cfg)
	if err != nil {
		return nil, fmt.Errorf("vmlab: guest %s: %w", cfg.Name, err)
	}
	qlog, err := os.Create(filepath.Join(l.Dir, cfg.Name+".qemu.log"))
	if err != nil {
		return nil, fmt.Errorf("vmlab: guest %s: %w", cfg.Name, err)
	}
	fmt.Fprintf(qlog, "# %s\n", ShellQuote(append([]string{"ip", "netns", "exec", l.Name, "qemu-system-x86_64"}, args...)))
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.Name, "qemu-system-x86_64"}, args...)...)
	cmd.Stdout, cmd.Stderr = qlog, qlog
	cmd.SysProcAttr = procAttr(l.keep)
	if err := cmd.Start(); err != nil {
		qlog.Close()
		return nil, fmt.Errorf("vmlab: guest %s: start qemu: %w", cfg.Name, err)
	}
	g.cmd = cmd
	go func() {
		err := cmd.Wait()
		g.exitErr = err
		g.exitCode = cmd.ProcessState.ExitCode()
		qlog.Close()
		close(g.done)
	}()
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return nil, errors.Join(fmt.Errorf("vmlab: guest %s: %w", cfg.Name, errClosing), g.stop(5*time.Second))
	}
	l.guests = append(l.guests, g)
	l.mu.Unlock()

	rawLog, err := os.Create(filepath.Join(l.Dir, cfg.Name+".console.log"))
	if err != nil {
		return nil, fmt.Errorf("vmlab: guest %s: %w", cfg.Name, err)
	}
	conn, err := g.dialConsole(ctx)
	if err == nil {
		g.mu.Lock()
		if g.stopped {
			conn.Close()
			err = errors.New("stopped while connecting the console")
		}
		g.conn = conn
		g.mu.Unlock()
	}
	if err != nil {
		rawLog.Close()
		return nil, fmt.Errorf("vmlab: guest %s: %w", cfg.Name, err)
	}
	go func() {
		_, _ = io.Copy(io.MultiWriter(g.Console, rawLog), conn)
		g.Console.Close()
		rawLog.Close()
	}()
	g.Shell = NewShell(g.Console, conn)
	return g, nil
}

// guestArgs creates the taps and returns the QEMU arguments.
func (l *Lab) guestArgs(ctx context.Context, gi int, g *Guest, cfg GuestConfig) ([]string, error) {
	mem := cfg.MemoryMB
	if mem <= 0 {
		mem = 512
	}
	cmdline := cfg.Image.Cmdline
	if cfg.Append != "" {
		cmdline += " " + cfg.Append
	}
	args := []string{
		"-name", "lvsbox-" + cfg.Name,
		"-machine", "pc", "-m", strconv.Itoa(mem), "-smp", "1",
		"-nographic", "-no-reboot",
		"-kernel", cfg.Image.Kernel, "-initrd", cfg.Image.Initrd, "-append", cmdline,
		"-chardev", "socket,id=con0,path=" + g.consolePath + ",server=on,wait=on",
		"-serial", "chardev:con0",
		"-monitor", "none",
		"-qmp", "unix:" + g.qmpPath + ",server=on,wait=off",
	}
	if cfg.Seed != nil {
		seed := filepath.Join(l.Dir, cfg.Name+".seed.json")
		if err := os.WriteFile(seed, cfg.Seed, 0o644); err != nil {
			return nil, err
		}
		args = append(args, "-fw_cfg", "name="+SeedFwCfgName+",file="+seed)
	}
	if len(cfg.NICs) == 0 {
		args = append(args, "-nic", "none")
	}
	for ni, nic := range cfg.NICs {
		tap := fmt.Sprintf("t%dn%d", gi, ni)
		if _, err := l.ip(ctx, "-n", l.Name, "tuntap", "add", "dev", tap, "mode", "tap"); err != nil {
			return nil, err
		}
		if err := l.attach(ctx, tap, nic.Segment); err != nil {
			return nil, err
		}
		mac := nic.MAC
		if mac == "" {
			mac = GuestMAC(gi, ni)
		}
		model := nic.Model
		if model == "" {
			model = "virtio-net-pci"
		}
		id := fmt.Sprintf("n%d", ni)
		args = append(args,
			"-netdev", "tap,id="+id+",ifname="+tap+",script=no,downscript=no",
			"-device", model+",netdev="+id+",mac="+mac+",romfile=")
	}
	return append(args, cfg.ExtraArgs...), nil
}

// ShellQuote joins args into one line a POSIX shell reads back as args.
func ShellQuote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && safeShellWord.MatchString(a) {
			b.WriteString(a)
			continue
		}
		b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}

var safeShellWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// GuestMAC is the default MAC of NIC ni of the gi-th guest of a lab.
func GuestMAC(gi, ni int) string {
	return fmt.Sprintf("52:54:00:4c:%02x:%02x", gi&0xff, ni&0xff)
}

func (g *Guest) dialConsole(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", g.consolePath)
		if err == nil {
			return conn, nil
		}
		select {
		case <-g.done:
			return nil, fmt.Errorf("qemu exited before its console was connected (%v); see %s.qemu.log", g.exitErr, g.Name)
		case <-ctx.Done():
			return nil, fmt.Errorf("connect console %s: %w", g.consolePath, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitConsole waits until re matches console output after the console
// cursor and moves the cursor past the match.
func (g *Guest) WaitConsole(ctx context.Context, re *regexp.Regexp) (Match, error) {
	m, err := g.Console.Wait(ctx, re)
	if err != nil {
		return m, fmt.Errorf("guest %s: %w", g.Name, err)
	}
	return m, nil
}

// Run types cmd into the guest's rescue shell and returns its output (see
// Shell.Run).
func (g *Guest) Run(ctx context.Context, cmd string) (string, error) {
	out, err := g.Shell.Run(ctx, cmd)
	if err != nil {
		return out, fmt.Errorf("guest %s: %w", g.Name, err)
	}
	return out, nil
}

// PowerDown presses the ACPI power button (QMP system_powerdown).
func (g *Guest) PowerDown(ctx context.Context) error {
	if _, err := qmpExecute(ctx, g.qmpPath, "system_powerdown", nil); err != nil {
		return fmt.Errorf("guest %s: %w", g.Name, err)
	}
	return nil
}

// Pid is the QEMU process id.
func (g *Guest) Pid() int { return g.cmd.Process.Pid }

// Signal sends sig to the QEMU process.
func (g *Guest) Signal(sig os.Signal) error { return g.cmd.Process.Signal(sig) }

// Kill kills the QEMU process.
func (g *Guest) Kill() error { return g.cmd.Process.Kill() }

// Done is closed when QEMU has exited.
func (g *Guest) Done() <-chan struct{} { return g.done }

// Wait waits for QEMU to exit and returns its exit code (-1 if a signal
// killed it). The error is only about waiting (the context ended).
func (g *Guest) Wait(ctx context.Context) (int, error) {
	select {
	case <-g.done:
		return g.exitCode, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("guest %s: wait for qemu exit: %w", g.Name, ctx.Err())
	}
}

// stop kills QEMU (if still running), waits up to timeout for it and
// closes the console connection. It may be called more than once.
func (g *Guest) stop(timeout time.Duration) error {
	g.mu.Lock()
	g.stopped = true
	if g.conn != nil {
		defer g.conn.Close()
	}
	g.mu.Unlock()
	select {
	case <-g.done:
		return nil
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-g.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("vmlab: guest %s: qemu pid %d did not exit", g.Name, g.Pid())
	}
}

// errNotRunning reports use of a guest whose QEMU has exited.
var errNotRunning = errors.New("qemu not running")

// Running reports an error if QEMU has exited.
func (g *Guest) Running() error {
	select {
	case <-g.done:
		return fmt.Errorf("guest %s: %w (exit code %d)", g.Name, errNotRunning, g.exitCode)
	default:
		return nil
	}
}
