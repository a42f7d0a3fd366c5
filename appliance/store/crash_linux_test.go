package store

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/config"
)

// writerEnv, when set to a data directory, turns the test binary into the writer
// process of TestKill9: it commits in a loop until it is killed.
const writerEnv = "LVSBOX_STORE_TEST_WRITER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(writerEnv); dir != "" {
		if err := runWriter(dir); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// writerConfig is a configuration whose size varies with i (1 to 150 services of 4
// real servers), so that commits touch different numbers of pages.
func writerConfig(i int) (config.Config, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `{"system": {"hostname": "w%d"}, "virtual_services": [`, i)
	for svc := range 1 + (i*37)%150 {
		if svc > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name": "s%d", "address": "192.0.2.%d", "port": %d, "real_servers": [`, svc, 1+svc%250, 1000+svc)
		for r := range 4 {
			if r > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"address": "198.51.100.%d", "weight": %d}`, 1+r, 1+(i+r)%100)
		}
		b.WriteString("]}")
	}
	b.WriteString("]}")
	return config.DecodeBytes([]byte(b.String()))
}

// runWriter commits forever, printing "committed N" after each commit returns.
func runWriter(dir string) error {
	s, err := Open(dir, Options{})
	if err != nil {
		return err
	}
	fmt.Println("open")
	deadline := time.Now().Add(time.Minute) // never outlive a lost parent for long
	for i := 0; time.Now().Before(deadline); i++ {
		cur, err := s.Current()
		if err != nil {
			return err
		}
		if cur.Pending() {
			if err := s.Confirm(cur.Number); err != nil {
				return err
			}
		}
		var ri RevisionInfo
		switch {
		case i%10 == 7 && cur.Number > 2:
			ri, err = s.Rollback(cur.Number-2, cur.Number, Meta{User: "writer"})
		default:
			c, cerr := writerConfig(i)
			if cerr != nil {
				return cerr
			}
			m := Meta{User: "writer", Comment: fmt.Sprint("loop ", i)}
			if i%10 == 3 {
				m.ConfirmWithin = time.Hour
			}
			ri, err = s.Apply(cur.Number, c, m)
			if err == nil && ri.Pending() {
				err = s.Confirm(ri.Number)
			}
		}
		if err != nil {
			return err
		}
		fmt.Println("committed", ri.Number)
	}
	return s.Close()
}

// kill9 starts the writer on dir, SIGKILLs it after delay and returns the highest
// revision number it reported as committed and whether it had opened the store.
func kill9(t *testing.T, dir string, delay time.Duration) (acked uint64, opened bool) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), writerEnv+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if line == "open" {
				opened = true
			}
			if n, ok := strings.CutPrefix(line, "committed "); ok {
				if v, err := strconv.ParseUint(n, 10, 64); err == nil {
					acked = v
				}
			}
		}
	}()
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-done
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("writer ended by itself (%v) before the kill: %s", err, stderr.String())
	}
	return acked, opened
}

func TestKill9(t *testing.T) {
	iterations := 30
	if testing.Short() {
		iterations = 8
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	t.Run("writer", func(t *testing.T) {
		dir := t.TempDir()
		var last uint64
		midWrite := 0
		for it := range iterations {
			acked, _ := kill9(t, dir, time.Duration(5+rng.IntN(300))*time.Millisecond)
			s := openAt(t, dir, newClock())
			n := checkStore(t, s)
			if n < acked {
				t.Fatalf("iteration %d: writer reported revision %d committed, store has %d", it, acked, n)
			}
			if n < last {
				t.Fatalf("iteration %d: store went back from %d to %d", it, last, n)
			}
			if n > acked {
				midWrite++ // killed after the commit, before it printed: fine
			}
			if it%5 == 4 {
				// A pending change left by the kill rolls back once expired.
				if cur, _ := s.Current(); cur.Pending() {
					ri, err := s.ExpirePending(cur.ConfirmBy)
					if err != nil || ri == nil || ri.RolledBackFrom != cur.Number-1 {
						t.Fatalf("expire after kill: %+v, %v", ri, err)
					}
					n = checkStore(t, s)
				}
			}
			last = n
			s.Close()
		}
		if last < uint64(iterations) {
			t.Fatalf("only %d revisions after %d runs: the writer hardly wrote", last, iterations)
		}
		t.Logf("%d kills, %d revisions, %d kills between commit and report", iterations, last, midWrite)
	})

	t.Run("migration", func(t *testing.T) {
		runs := iterations / 3
		opened := 0
		for it := range runs {
			dir := fixture(t, 1)
			_, op := kill9(t, dir, time.Duration(rng.IntN(40))*time.Millisecond)
			if op {
				opened++
			}
			s := openAt(t, dir, newClock())
			if n := checkStore(t, s); n < 3 {
				t.Fatalf("iteration %d: %d revisions after a kill during migration", it, n)
			}
			for n, want := range map[uint64]string{1: "seed import", 3: "rename, add dns"} {
				if rev, err := s.Get(n); err != nil || rev.Comment != want {
					t.Fatalf("iteration %d: revision %d = %+v, %v", it, n, rev.RevisionInfo, err)
				}
			}
			s.Close()
		}
		t.Logf("%d kills around migration, %d after the writer had opened the store", runs, opened)
	})
}
