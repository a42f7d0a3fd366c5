package scheduler

import (
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkTCP10kConnectFloor is the floor under BenchmarkTCP10k on this machine:
// one goroutine doing nothing but a non-blocking connect (completed inside the
// call on loopback) and a RST close, 10 every millisecond, to the same 10,000
// loopback listeners. No scheduler, no state, no netpoller. What it costs is the
// kernel's work for both ends of the handshake, which loopback bills to the
// connecting process.
func BenchmarkTCP10kConnectFloor(b *testing.B) {
	if testing.Short() {
		b.Skip("-short")
	}
	const n = 10000
	window := benchWindow(b)
	startListeners(b, nil, "tcp", n, "127.1.0.1", 9000)
	targets := make([]unix.SockaddrInet4, n)
	a := netip.MustParseAddr("127.1.0.1")
	for i := range targets {
		targets[i] = unix.SockaddrInet4{Port: 9000, Addr: a.As4()}
		a = a.Next()
	}
	connect := func(sa *unix.SockaddrInet4) bool {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(fd)
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
		if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
			return false
		}
		_, err = unix.Getpeername(fd)
		return err == nil
	}
	b.ResetTimer()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	ru0, t0 := rusage(b), time.Now()
	done, failed := 0, 0
	for time.Since(t0) < window {
		<-tick.C
		// Catch up on ticks the ticker dropped: 10 connects per elapsed millisecond.
		for due := int(time.Since(t0)/time.Millisecond) * 10; done < due; done++ {
			if !connect(&targets[done%n]) {
				failed++
			}
		}
	}
	ru1, wall := rusage(b), time.Since(t0)
	b.StopTimer()
	cpu := ru1.total() - ru0.total()
	b.ReportMetric(float64(done)/wall.Seconds(), "checks/s")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu-of-1-core")
	b.Logf("%d connects (%.0f/s), %d not completed inside connect(2); CPU %v (user %v, sys %v; %.1f%% of one core)",
		done, float64(done)/wall.Seconds(), failed, cpu.Round(time.Millisecond), (ru1.user - ru0.user).Round(time.Millisecond),
		(ru1.sys - ru0.sys).Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds())
}
