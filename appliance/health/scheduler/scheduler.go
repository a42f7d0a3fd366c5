package scheduler

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
	"github.com/lvsbox/lvsbox/appliance/health/checker"
	"github.com/lvsbox/lvsbox/appliance/health/state"
)

// DefaultWorkers is the size of the worker pool when Config.Workers is 0. It bounds
// the attempts in flight: checks per second x worst-case attempt time should stay
// well below it.
const DefaultWorkers = 256

// DefaultResolution is the dispatcher's minimum sleep when Config.Resolution is 0:
// attempts due within it of each other are handed out together, which bounds the
// dispatcher's wake-ups to 1/Resolution per second at the cost of that much
// lateness.
const DefaultResolution = time.Millisecond

// Config is how a Scheduler reaches the world.
type Config struct {
	Clock      health.Clock  // default health.SystemClock
	Rand       health.Rand   // default a randomly seeded PCG
	Workers    int           // default DefaultWorkers
	Resolution time.Duration // default DefaultResolution
	NewChecker NewChecker    // default checker.New with CheckerOptions
	// CheckerOptions is used by the default NewChecker.
	CheckerOptions checker.Options
	Observers      []Observer   // called after every attempt, from worker goroutines
	Logger         *slog.Logger // default slog.Default(); transitions are logged
}

// Event is the outcome of one attempt.
type Event struct {
	Key       health.Key
	Type      health.Type
	Target    netip.AddrPort
	Scheduled time.Time // when the attempt was due
	Started   time.Time // when a worker started it
	Attempt   int       // 0, then retries
	Result    health.Result
	// Transition is the up/down change the attempt caused, with Subscribers (the
	// subscription IDs sharing the probe); nil otherwise.
	Transition  *state.Transition
	Subscribers []string
}

// Lateness is how much later than due the attempt started.
func (e Event) Lateness() time.Duration { return e.Started.Sub(e.Scheduled) }

// Observer receives every Event. It must be safe for concurrent use and quick.
type Observer interface{ Observe(Event) }

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe calls f.
func (f ObserverFunc) Observe(e Event) { f(e) }

// Scheduler runs the probes of a Core on a clock and a worker pool.
type Scheduler struct {
	cfg  Config
	mu   sync.Mutex
	core *Core
	// The dispatcher's sleep, under mu: sleeping with a timer set for armed (or no
	// timer when !timed). A completion due earlier than that wakes it.
	sleeping bool
	timed    bool
	armed    time.Time
	wake     chan struct{}
	changed  chan struct{}
}

// New returns a scheduler with no subscriptions; call Apply and Run.
func New(cfg Config) *Scheduler {
	if cfg.Clock == nil {
		cfg.Clock = health.SystemClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Resolution <= 0 {
		cfg.Resolution = DefaultResolution
	}
	if cfg.NewChecker == nil {
		opts := cfg.CheckerOptions
		cfg.NewChecker = func(spec health.Spec, server netip.AddrPort) (checker.Checker, error) {
			return checker.New(spec, server, opts)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Scheduler{
		cfg:     cfg,
		core:    NewCore(cfg.NewChecker, cfg.Rand),
		wake:    make(chan struct{}, 1),
		changed: make(chan struct{}, 1),
	}
}

// Apply replaces the set of subscriptions (see Core.Apply). It may be called before
// and while Run runs.
func (s *Scheduler) Apply(subs []Subscription) (ApplyStats, error) {
	s.mu.Lock()
	st, err := s.core.Apply(s.cfg.Clock.Now(), subs)
	s.mu.Unlock()
	if err == nil {
		poke(s.wake)
		poke(s.changed)
	}
	return st, err
}

// Changed receives (coalesced) after every Apply and every up/down transition:
// the moment to recompute weights.
func (s *Scheduler) Changed() <-chan struct{} { return s.changed }

// Health returns the state of subscription id.
func (s *Scheduler) Health(id string) (Health, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.Health(id)
}

// Snapshot returns the visible state of every probe and subscription.
func (s *Scheduler) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.Snapshot(s.cfg.Clock.Now())
}

// Run dispatches due attempts to the worker pool until ctx ends, then waits for
// the attempts in flight (they see ctx's end). Call it once.
func (s *Scheduler) Run(ctx context.Context) error {
	jobs := make(chan Job, s.cfg.Workers)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				s.work(ctx, j)
			}
		}()
	}
	defer wg.Wait()
	defer close(jobs)

	clock := s.cfg.Clock
	timer := clock.NewTimer(time.Hour)
	defer timer.Stop()
	var batch []Job
	for {
		now := clock.Now()
		s.mu.Lock()
		batch = s.core.Due(now, batch[:0])
		next, ok := s.core.NextAt()
		s.sleeping, s.timed, s.armed = len(batch) == 0, ok, next
		s.mu.Unlock()
		if len(batch) > 0 {
			for _, j := range batch {
				if a, ok := j.Checker.(checker.AsyncChecker); ok {
					s.start(ctx, a, j)
					continue
				}
				select {
				case jobs <- j:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			continue
		}
		tc := (<-chan time.Time)(nil)
		if ok {
			timer.Reset(max(next.Sub(now), s.cfg.Resolution))
			tc = timer.C()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		case <-tc:
		}
	}
}

// work runs one attempt and records it.
func (s *Scheduler) work(ctx context.Context, j Job) {
	started := s.cfg.Clock.Now()
	res := j.Checker.Check(ctx) // the checker applies the attempt's deadline
	s.finish(ctx, j, started, res)
}

// start starts an attempt of an AsyncChecker from the dispatcher: no worker waits
// for it. An attempt still in flight when Run returns is abandoned (its result is
// dropped, as an aborted synchronous attempt's is).
func (s *Scheduler) start(ctx context.Context, a checker.AsyncChecker, j Job) {
	started := s.cfg.Clock.Now()
	a.Start(func(res health.Result) { s.finish(ctx, j, started, res) })
}

// finish records the result of an attempt started at started.
func (s *Scheduler) finish(ctx context.Context, j Job, started time.Time, res health.Result) {
	if ctx.Err() != nil {
		return // shutting down: an aborted attempt says nothing about the server
	}
	done := s.cfg.Clock.Now()
	s.mu.Lock()
	c := s.core.Complete(done, j, res)
	wake := !c.Removed && s.sleeping && (!s.timed || c.Next.Before(s.armed))
	s.mu.Unlock()
	if c.Removed {
		return
	}
	if wake {
		poke(s.wake)
	}
	if c.Transition != nil {
		poke(s.changed)
		verb := "down"
		if c.Transition.Up {
			verb = "up"
		}
		s.cfg.Logger.Info("health: "+verb, "type", c.Type, "target", c.Target.String(),
			"reason", c.Transition.Reason, "subscriptions", c.Subscribers)
	}
	if len(s.cfg.Observers) == 0 {
		return
	}
	ev := Event{
		Key: c.Key, Type: c.Type, Target: c.Target,
		Scheduled: j.At, Started: started, Attempt: j.Attempt, Result: res,
		Transition: c.Transition, Subscribers: c.Subscribers,
	}
	for _, o := range s.cfg.Observers {
		o.Observe(ev)
	}
}

// poke sends on a one-slot channel without blocking.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
