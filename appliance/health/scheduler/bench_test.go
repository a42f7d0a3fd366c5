package scheduler

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/tools/testenv"
)

// Benchmarks (figures, not pass/fail; run only with -bench):
//
//	go test -run '^$' -bench . -benchtime 1x ./appliance/health/scheduler/
//
// LVSBOX_BENCH_SECONDS sets the measured window (default 20 s, after a warm-up of
// two intervals). Listeners run in a separate hcserver process on loopback
// addresses (127.0.0.0/8 is all on lo), so CPU and memory are the checker's own.

// BenchmarkTCP10k: 10,000 real servers, TCP connect checks every second.
func BenchmarkTCP10k(b *testing.B) {
	benchChecks(b, nil, "tcp", 10000, "127.1.0.1", 9000, health.Spec{Type: health.TypeTCP})
}

// BenchmarkTCP10kHalfOpen: as BenchmarkTCP10k with half-open (SYN) probes (root:
// raw sockets).
func BenchmarkTCP10kHalfOpen(b *testing.B) {
	testenv.Need(b, os.Geteuid() == 0, "needs root for raw sockets")
	benchChecks(b, nil, "tcp", 10000, "127.1.0.1", 9000, health.Spec{Type: health.TypeTCP, TCP: &health.TCPSpec{HalfOpen: true}})
}

// BenchmarkHTTP5k: 5,000 real servers, HTTP GET checks every second.
func BenchmarkHTTP5k(b *testing.B) {
	benchChecks(b, nil, "http", 5000, "127.2.0.1", 9080, health.Spec{Type: health.TypeHTTP})
}

// latencies collects lateness samples cheaply.
type latencies struct {
	mu       sync.Mutex
	on       bool
	late     []time.Duration
	attempts int
	failed   int
	lastFail string
	perSec   map[int64]time.Duration
}

func (l *latencies) Observe(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.on {
		return
	}
	l.late = append(l.late, e.Lateness())
	sec := e.Scheduled.Unix()
	if l.perSec == nil {
		l.perSec = map[int64]time.Duration{}
	}
	l.perSec[sec] = max(l.perSec[sec], e.Lateness())
	l.attempts++
	if !e.Result.OK {
		l.failed++
		l.lastFail = e.Result.Text
	}
}

func (l *latencies) set(on bool) {
	l.mu.Lock()
	l.on = on
	l.mu.Unlock()
}

// benchChecks runs n checks of spec against an hcserver listening on n addresses
// from first; prefix (e.g. "ip netns exec NS") runs the hcserver elsewhere.
func benchChecks(b *testing.B, prefix []string, mode string, n int, first string, port int, spec health.Spec) {
	if testing.Short() {
		b.Skip("-short")
	}
	window := benchWindow(b)
	srv := startListeners(b, prefix, mode, n, first, port)

	spec.Interval, spec.Timeout, spec.Rise, spec.Fall = time.Second, time.Second, 2, 3
	subs := make([]Subscription, 0, n)
	a := netip.MustParseAddr(first)
	for i := range n {
		ap := netip.AddrPortFrom(a, uint16(port))
		subs = append(subs, Subscription{ID: fmt.Sprint("svc/", i), Service: "svc", Server: ap, Spec: spec})
		a = a.Next()
	}
	lat := &latencies{late: make([]time.Duration, 0, int(window/time.Second+2)*n)}
	workers := DefaultWorkers
	if w, err := strconv.Atoi(os.Getenv("LVSBOX_BENCH_WORKERS")); err == nil {
		workers = w
	}
	s := New(Config{Workers: workers, Observers: []Observer{lat}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := s.Apply(subs); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	time.Sleep(2 * spec.Interval) // warm-up: every probe has run
	b.ResetTimer()
	ru0, t0, srv0 := rusage(b), time.Now(), procCPU(srv.Process.Pid)
	lat.set(true)
	time.Sleep(window)
	lat.set(false)
	ru1, t1, srv1 := rusage(b), time.Now(), procCPU(srv.Process.Pid)
	b.StopTimer()

	wall := t1.Sub(t0)
	cpu := ru1.total() - ru0.total()
	user, sys := ru1.user-ru0.user, ru1.sys-ru0.sys
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	up := 0
	for _, st := range s.Snapshot().Subscriptions {
		if st.Up {
			up++
		}
	}
	lat.mu.Lock()
	defer lat.mu.Unlock()
	var secs []int64
	for k := range lat.perSec {
		secs = append(secs, k)
	}
	slices.Sort(secs)
	var ps []string
	for _, k := range secs {
		ps = append(ps, lat.perSec[k].Round(time.Millisecond).String())
	}
	b.Logf("max lateness per second: %s", strings.Join(ps, " "))
	slices.Sort(lat.late)
	q := func(p float64) time.Duration {
		if len(lat.late) == 0 {
			return 0
		}
		return lat.late[min(len(lat.late)-1, int(p*float64(len(lat.late))))]
	}
	rate := float64(lat.attempts) / wall.Seconds()
	b.ReportMetric(rate, "checks/s")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu-of-1-core")
	b.ReportMetric(float64(q(0.50).Microseconds())/1000, "p50-late-ms")
	b.ReportMetric(float64(q(0.99).Microseconds())/1000, "p99-late-ms")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(rssMiB(), "rss-MiB")
	b.Logf("%s x %d every %v, %d workers, for %v: %d attempts (%.0f/s), %d failed (%s), %d of %d up; CPU %v (user %v, sys %v; %.1f%% of one core); lateness p50 %v p99 %v max %v; heap in use %.1f MiB (%.1f MiB before apply), sys %.1f MiB, RSS %.1f MiB, goroutines %d; listener process CPU %v; load %s",
		mode, n, spec.Interval, workers, wall.Round(time.Millisecond), lat.attempts, rate, lat.failed, lat.lastFail, up, n,
		cpu.Round(time.Millisecond), user.Round(time.Millisecond), sys.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds(), q(0.5), q(0.99), q(1),
		float64(ms.HeapInuse)/(1<<20), float64(before.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20), rssMiB(), runtime.NumGoroutine(), (srv1 - srv0).Round(time.Millisecond), loadavg())
}

// benchWindow is the measured window: LVSBOX_BENCH_SECONDS, default 20 s.
func benchWindow(b *testing.B) time.Duration {
	window := 20 * time.Second
	if s := os.Getenv("LVSBOX_BENCH_SECONDS"); s != "" {
		sec, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("LVSBOX_BENCH_SECONDS=%q: %v", s, err)
		}
		window = time.Duration(sec) * time.Second
	}
	return window
}

// startListeners runs an hcserver with n listeners from first:port until the
// benchmark ends; prefix (e.g. "ip netns exec NS") runs it elsewhere.
func startListeners(b *testing.B, prefix []string, mode string, n int, first string, port int) *exec.Cmd {
	bin := hcserver(b)
	argv := append(slices.Clone(prefix), bin, "-mode", mode, "-first", first, "-n", strconv.Itoa(n), "-port", strconv.Itoa(port))
	srv := exec.Command(argv[0], argv[1:]...)
	srv.Stderr = os.Stderr
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := srv.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || !strings.HasPrefix(line, "ready") {
		b.Fatalf("hcserver: %q %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return srv
}

// cpuTime is the process's CPU time (getrusage).
type cpuTime struct{ user, sys time.Duration }

func (c cpuTime) total() time.Duration { return c.user + c.sys }

// rusage returns the process's user and system CPU time.
func rusage(tb testing.TB) cpuTime {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return cpuTime{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
}

// procCPU returns the user+system CPU time of process pid (/proc/PID/stat).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
