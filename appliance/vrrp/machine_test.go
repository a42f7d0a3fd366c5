package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	noTimer  time.Duration = -1
	ms                     = time.Millisecond
	me                     = "192.0.2.2" // our primary address in mcfg
	lowerIP                = "192.0.2.1"
	higherIP               = "192.0.2.3"
)

// Timer values for mcfg (v3, priority 100, 1 s):
// Skew_Time = 156 * 1 s / 256 = 609.375 ms; Master_Down_Interval = 3.609375 s.
const (
	skew100 = 609375 * time.Microsecond
	mdi100  = 3*time.Second + skew100
)

func mcfg(mod ...func(*Config)) Config {
	c := Config{Version: 3, VRID: 1, Priority: 100, AdvertInterval: time.Second,
		PrimaryAddr: mustAddr(me), VIPs: []netip.Addr{mustAddr("192.0.2.100")}}
	for _, f := range mod {
		f(&c)
	}
	return c
}

type input func(m *Machine, now time.Time) Output

func start() input    { return (*Machine).Start }
func tick() input     { return (*Machine).Tick }
func shutdown() input { return (*Machine).Shutdown }
func yield() input    { return (*Machine).Yield }
func recv(prio uint8, src string, iv time.Duration) input {
	return func(m *Machine, now time.Time) Output {
		return m.Receive(now, Advert{Src: mustAddr(src), Priority: prio, Interval: iv})
	}
}
func setPrio(p uint8) input {
	return func(m *Machine, now time.Time) Output { return m.SetPriority(now, p) }
}
func fault(f bool) input {
	return func(m *Machine, now time.Time) Output { return m.SetFault(now, f) }
}

// step is one input at t0+at and what must come out of it.
type step struct {
	at    time.Duration
	in    input
	acts  string           // actions, space separated (Action.String)
	state State            // state afterwards
	timer time.Duration    // deadline afterwards, relative to t0, or noTimer
	tr    TransitionReason // reason of the one transition expected, or "" for none
	check func(t *testing.T, m *Machine)
}

func TestMachine(t *testing.T) {
	B, M, I, F := StateBackup, StateMaster, StateInitialize, StateFault
	sec := time.Second
	cases := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"startup to backup, master down timer fires", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: mdi100 - 1, in: tick(), state: B, timer: mdi100},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: mdi100 + sec, tr: ReasonMasterDown},
		}},
		{"owner goes straight to master and ignores adverts", mcfg(func(c *Config) { c.Priority = 255 }), []step{
			{at: 0, in: start(), acts: "SendAdvert(255) BecomeMaster(accept=true)", state: M, timer: sec, tr: ReasonAddressOwner},
			{at: 100 * ms, in: recv(254, higherIP, sec), state: M, timer: sec, check: func(t *testing.T, m *Machine) {
				if m.Stats().OwnerIgnored != 1 {
					t.Errorf("OwnerIgnored = %d", m.Stats().OwnerIgnored)
				}
			}},
		}},
		{"accept mode is carried", mcfg(func(c *Config) { c.AcceptMode = true }), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=true)", state: M, timer: mdi100 + sec, tr: ReasonMasterDown},
		}},
		{"backup: higher and equal priority adverts reset the down timer", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: 2 * sec, in: recv(150, higherIP, sec), state: B, timer: 2*sec + mdi100},
			{at: 4 * sec, in: recv(100, lowerIP, sec), state: B, timer: 4*sec + mdi100},
			{at: 4*sec + mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: 5*sec + mdi100, tr: ReasonMasterDown},
		}},
		{"v3 backup learns the master's interval", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			// 3 * 200 ms + 156 * 200 ms / 256 = 721.875 ms
			{at: sec, in: recv(150, higherIP, 200*ms), state: B, timer: sec + 721875*time.Microsecond, check: func(t *testing.T, m *Machine) {
				if m.MasterAdverInterval() != 200*ms || m.SkewTime() != 121875*time.Microsecond {
					t.Errorf("Master_Adver_Interval %v Skew_Time %v", m.MasterAdverInterval(), m.SkewTime())
				}
			}},
		}},
		{"v2 backup keeps its own interval", mcfg(func(c *Config) { c.Version = 2 }), []step{
			// v2 Skew_Time = (256 - 100) / 256 s, as v3 at 1 s.
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: sec, in: recv(150, higherIP, 3*sec), state: B, timer: sec + mdi100},
		}},
		{"v2 skew does not scale with the interval", mcfg(func(c *Config) { c.Version, c.AdvertInterval = 2, 2*sec }), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: 6*sec + skew100, tr: ReasonStartup},
		}},
		{"priority 0 advert: take over after Skew_Time only", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: sec, in: recv(150, higherIP, sec), state: B, timer: sec + mdi100},
			{at: 2 * sec, in: recv(0, higherIP, sec), state: B, timer: 2*sec + skew100},
			{at: 2*sec + skew100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: 3*sec + skew100, tr: ReasonMasterReleased},
		}},
		{"preempt: lower-priority master's adverts are discarded", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: sec, in: recv(50, higherIP, sec), state: B, timer: mdi100},
			{at: 2 * sec, in: recv(50, higherIP, sec), state: B, timer: mdi100},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: mdi100 + sec, tr: ReasonPreempt, check: func(t *testing.T, m *Machine) {
				if m.Stats().LowerDiscarded != 2 {
					t.Errorf("LowerDiscarded = %d", m.Stats().LowerDiscarded)
				}
			}},
			// The preempted master's adverts still come until it hears us:
			// answered at once, but not a dual-master episode.
			{at: mdi100 + 10*ms, in: recv(50, higherIP, sec), acts: "SendAdvert(100)", state: M, timer: mdi100 + 10*ms + sec, check: func(t *testing.T, m *Machine) {
				if m.Stats().DualMasterEpisodes != 0 {
					t.Errorf("DualMasterEpisodes = %d after a preemption", m.Stats().DualMasterEpisodes)
				}
			}},
		}},
		{"no-preempt: a lower-priority master is kept", mcfg(func(c *Config) { c.NoPreempt = true }), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: 3 * sec, in: recv(50, higherIP, sec), state: B, timer: 3*sec + mdi100},
			{at: 6 * sec, in: recv(50, higherIP, sec), state: B, timer: 6*sec + mdi100},
		}},
		{"preempt delay: lower master kept until the delay ends", mcfg(func(c *Config) { c.PreemptDelay = 10 * sec }), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: 3 * sec, in: recv(50, higherIP, sec), state: B, timer: 3*sec + mdi100},
			{at: 9 * sec, in: recv(50, higherIP, sec), state: B, timer: 9*sec + mdi100},
			{at: 10 * sec, in: recv(50, higherIP, sec), state: B, timer: 9*sec + mdi100},
			{at: 11 * sec, in: recv(50, higherIP, sec), state: B, timer: 9*sec + mdi100},
			{at: 9*sec + mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: 10*sec + mdi100, tr: ReasonPreempt, check: func(t *testing.T, m *Machine) {
				if s := m.Stats(); s.PreemptHeld != 2 || s.LowerDiscarded != 2 {
					t.Errorf("PreemptHeld %d LowerDiscarded %d, want 2 2", s.PreemptHeld, s.LowerDiscarded)
				}
			}},
		}},
		{"yield: a sync group master steps down with priority 0", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: 0, in: yield(), acts: "", state: B, timer: mdi100},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: mdi100 + sec, tr: ReasonMasterDown},
			{at: 5 * sec, in: yield(), acts: "SendAdvert(0) BecomeBackup(Backup)", state: B, timer: 5*sec + mdi100, tr: ReasonSyncGroup},
			{at: 5*sec + mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: 6*sec + mdi100, tr: ReasonMasterDown},
		}},
		{"backup shutdown", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: sec, in: shutdown(), state: I, timer: noTimer, tr: ReasonShutdown},
			{at: 2 * sec, in: recv(150, higherIP, sec), state: I, timer: noTimer},
			{at: 9 * sec, in: tick(), state: I, timer: noTimer},
			{at: 10 * sec, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: 10*sec + mdi100, tr: ReasonStartup},
		}},
		{"master: adver timer, late tick does not burst", mcfg(func(c *Config) { c.Priority = 255 }), []step{
			{at: 0, in: start(), acts: "SendAdvert(255) BecomeMaster(accept=true)", state: M, timer: sec, tr: ReasonAddressOwner},
			{at: sec + 10*ms, in: tick(), acts: "SendAdvert(255)", state: M, timer: 2 * sec},
			{at: 5 * sec, in: tick(), acts: "SendAdvert(255)", state: M, timer: 6 * sec},
			{at: 5*sec + 1, in: tick(), state: M, timer: 6 * sec},
		}},
		{"master steps down for a higher priority (and learns its interval)", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: mdi100 + sec, tr: ReasonMasterDown},
			{at: 4 * sec, in: recv(101, lowerIP, 2*sec), acts: "BecomeBackup(Backup)", state: B, timer: 4*sec + 6*sec + 2*skew100, tr: ReasonHigherPriority},
		}},
		{"master steps down for equal priority and a greater address", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: mdi100 + sec, tr: ReasonMasterDown},
			{at: 4 * sec, in: recv(100, higherIP, sec), acts: "BecomeBackup(Backup)", state: B, timer: 4*sec + mdi100, tr: ReasonHigherAddress},
		}},
		{"without a primary address every tie is lost", mcfg(func(c *Config) { c.PrimaryAddr = netip.Addr{} }), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: mdi100 + sec, tr: ReasonMasterDown},
			{at: 4 * sec, in: recv(100, "0.0.0.1", sec), acts: "BecomeBackup(Backup)", state: B, timer: 4*sec + mdi100, tr: ReasonHigherAddress},
		}},
		{"dual master: lower adverts answered at once, episodes counted", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: mdi100 + sec, tr: ReasonMasterDown},
			{at: 4 * sec, in: recv(99, higherIP, sec), acts: "SendAdvert(100)", state: M, timer: 5 * sec},
			{at: 4*sec + 500*ms, in: recv(100, lowerIP, sec), acts: "SendAdvert(100)", state: M, timer: 5*sec + 500*ms},
			{at: 5 * sec, in: recv(99, higherIP, sec), acts: "SendAdvert(100)", state: M, timer: 6 * sec, check: func(t *testing.T, m *Machine) {
				if n := m.Stats().DualMasterEpisodes; n != 1 {
					t.Errorf("DualMasterEpisodes = %d, want 1", n)
				}
			}},
			{at: 20 * sec, in: recv(99, higherIP, sec), acts: "SendAdvert(100)", state: M, timer: 21 * sec, check: func(t *testing.T, m *Machine) {
				if n := m.Stats().DualMasterEpisodes; n != 2 {
					t.Errorf("DualMasterEpisodes = %d, want 2", n)
				}
			}},
		}},
		{"master answers a priority 0 advert", mcfg(func(c *Config) { c.Priority = 255 }), []step{
			{at: 0, in: start(), acts: "SendAdvert(255) BecomeMaster(accept=true)", state: M, timer: sec, tr: ReasonAddressOwner},
			{at: 500 * ms, in: setPrio(200), acts: "SendAdvert(200)", state: M, timer: 1500 * ms},
			{at: 700 * ms, in: recv(0, higherIP, sec), acts: "SendAdvert(200)", state: M, timer: 1700 * ms},
		}},
		{"master shutdown sends priority 0", mcfg(func(c *Config) { c.Priority = 255 }), []step{
			{at: 0, in: start(), acts: "SendAdvert(255) BecomeMaster(accept=true)", state: M, timer: sec, tr: ReasonAddressOwner},
			{at: 500 * ms, in: shutdown(), acts: "SendAdvert(0) BecomeBackup(Initialize)", state: I, timer: noTimer, tr: ReasonShutdown},
			{at: 600 * ms, in: shutdown(), state: I, timer: noTimer},
		}},
		{"fault from master, then cleared", mcfg(func(c *Config) { c.PreemptDelay = 5 * sec }), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: mdi100 + sec, tr: ReasonMasterDown},
			{at: 10 * sec, in: fault(true), acts: "SendAdvert(0) BecomeBackup(Fault)", state: F, timer: noTimer, tr: ReasonFault},
			{at: 11 * sec, in: recv(50, higherIP, sec), state: F, timer: noTimer},
			{at: 11 * sec, in: fault(true), state: F, timer: noTimer},
			{at: 20 * sec, in: fault(false), acts: "BecomeBackup(Backup)", state: B, timer: 20*sec + mdi100, tr: ReasonFaultCleared},
			// The preempt delay restarts when the fault clears.
			{at: 24 * sec, in: recv(50, higherIP, sec), state: B, timer: 24*sec + mdi100},
			{at: 25 * sec, in: recv(50, higherIP, sec), state: B, timer: 24*sec + mdi100},
		}},
		{"fault from backup, shutdown in fault", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: sec, in: fault(true), acts: "BecomeBackup(Fault)", state: F, timer: noTimer, tr: ReasonFault},
			{at: 2 * sec, in: shutdown(), state: I, timer: noTimer, tr: ReasonShutdown},
		}},
		{"fault before startup, owner recovers to master", mcfg(func(c *Config) { c.Priority = 255 }), []step{
			{at: 0, in: fault(true), state: I, timer: noTimer},
			{at: sec, in: start(), acts: "BecomeBackup(Fault)", state: F, timer: noTimer, tr: ReasonFault},
			{at: 2 * sec, in: fault(false), acts: "SendAdvert(255) BecomeMaster(accept=true)", state: M, timer: 3 * sec, tr: ReasonAddressOwner},
		}},
		{"fault set and cleared before startup", mcfg(), []step{
			{at: 0, in: fault(true), state: I, timer: noTimer},
			{at: 0, in: fault(false), state: I, timer: noTimer},
			{at: sec, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: sec + mdi100, tr: ReasonStartup},
		}},
		{"tracking: backup priority rises above the master and preempts", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: sec, in: recv(120, higherIP, sec), state: B, timer: sec + mdi100},
			{at: 2 * sec, in: setPrio(130), state: B, timer: sec + mdi100, check: func(t *testing.T, m *Machine) {
				// (256 - 130) / 256 s = 492.1875 ms
				if m.SkewTime() != 4921875*time.Microsecond/10 {
					t.Errorf("Skew_Time %v after priority change", m.SkewTime())
				}
			}},
			{at: 3 * sec, in: recv(120, higherIP, sec), state: B, timer: sec + mdi100},
			{at: sec + mdi100, in: tick(), acts: "SendAdvert(130) BecomeMaster(accept=false)", state: M, timer: 2*sec + mdi100, tr: ReasonPreempt},
		}},
		{"tracking: master priority drops, higher backup takes over", mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: mdi100, in: tick(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: mdi100 + sec, tr: ReasonMasterDown},
			{at: 4 * sec, in: setPrio(80), acts: "SendAdvert(80)", state: M, timer: 5 * sec},
			{at: 4 * sec, in: setPrio(80), state: M, timer: 5 * sec},
			{at: 4*sec + 10*ms, in: recv(90, lowerIP, sec), acts: "BecomeBackup(Backup)", state: B,
				timer: 4*sec + 10*ms + 3*sec + 176*sec/256, tr: ReasonHigherPriority},
		}},
		{"tracking: owner lowered takes part, restored takes over", mcfg(func(c *Config) { c.Priority = 255 }), []step{
			{at: 0, in: start(), acts: "SendAdvert(255) BecomeMaster(accept=true)", state: M, timer: sec, tr: ReasonAddressOwner},
			{at: 100 * ms, in: setPrio(EffectivePriority(255, -100)), acts: "SendAdvert(155)", state: M, timer: 1100 * ms},
			{at: 200 * ms, in: recv(200, higherIP, sec), acts: "BecomeBackup(Backup)", state: B, timer: 200*ms + 3*sec + 101*sec/256, tr: ReasonHigherPriority},
			{at: 300 * ms, in: setPrio(0), state: B, timer: 200*ms + 3*sec + 101*sec/256, check: func(t *testing.T, m *Machine) {
				if m.Priority() != 1 {
					t.Errorf("priority %d after SetPriority(0), want 1", m.Priority())
				}
			}},
			{at: 400 * ms, in: setPrio(EffectivePriority(255, 0)), acts: "SendAdvert(255) BecomeMaster(accept=true)", state: M, timer: 1400 * ms, tr: ReasonPriorityRestored},
		}},
		{"own adverts and adverts before startup are ignored", mcfg(), []step{
			{at: 0, in: recv(150, higherIP, sec), state: I, timer: noTimer},
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: sec, in: recv(150, me, sec), state: B, timer: mdi100},
			{at: sec, in: start(), state: B, timer: mdi100, check: func(t *testing.T, m *Machine) {
				if s := m.Stats(); s.AdvertsIgnored != 2 || s.AdvertsReceived != 0 {
					t.Errorf("AdvertsIgnored %d AdvertsReceived %d, want 2 0", s.AdvertsIgnored, s.AdvertsReceived)
				}
			}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, tc.cfg, tc.steps) })
	}
}

// TestTwoRouters runs two machines against each other over a perfect
// in-memory link and checks the election, failover and preemption.
func TestTwoRouters(t *testing.T) {
	a, _ := New(mcfg(func(c *Config) { c.Priority = 200; c.PrimaryAddr = mustAddr(lowerIP) }))
	b, _ := New(mcfg(func(c *Config) { c.Priority = 100; c.PrimaryAddr = mustAddr(higherIP) }))
	routers := []*Machine{a, b}
	up := []bool{true, true}
	now := t0
	var log [2][]Transition
	var deliver func(from int, out Output)
	deliver = func(from int, out Output) {
		log[from] = append(log[from], out.Transitions...)
		for _, act := range out.Actions {
			if act.Kind != ActionSendAdvert {
				continue
			}
			for to, r := range routers {
				if to != from && up[to] {
					cfg := routers[from].Config()
					deliver(to, r.Receive(now, Advert{Src: cfg.PrimaryAddr, Priority: act.Priority, Interval: cfg.AdvertInterval}))
				}
			}
		}
	}
	// run advances the clock to the next deadline among running routers until until.
	run := func(until time.Time) {
		for {
			next, idx := time.Time{}, -1
			for i, r := range routers {
				if d, ok := r.Deadline(); ok && up[i] && (idx < 0 || d.Before(next)) {
					next, idx = d, i
				}
			}
			if idx < 0 || next.After(until) {
				now = until
				return
			}
			now = next
			deliver(idx, routers[idx].Tick(now))
		}
	}
	deliver(0, a.Start(now))
	deliver(1, b.Start(now))
	run(t0.Add(10 * time.Second))
	if a.State() != StateMaster || b.State() != StateBackup {
		t.Fatalf("after election: a %v b %v, want Master Backup", a.State(), b.State())
	}
	// a dies without a word: b takes over within Master_Down_Interval.
	up[0] = false
	died := now
	run(now.Add(10 * time.Second))
	if b.State() != StateMaster || b.Stats().BecameMaster != 1 {
		t.Fatalf("after a died: b %v", b.State())
	}
	if last := log[1][len(log[1])-1]; last.Reason != ReasonMasterDown || last.At.Sub(died) > mdi100 {
		t.Fatalf("b took over %v after a died (%s), want <= %v", last.At.Sub(died), last.Reason, mdi100)
	}
	// a returns (restart) and preempts b.
	a, _ = New(a.Config())
	routers[0], up[0] = a, true
	deliver(0, a.Start(now))
	back := now
	run(now.Add(10 * time.Second))
	if a.State() != StateMaster || b.State() != StateBackup {
		t.Fatalf("after a returned: a %v b %v, want Master Backup", a.State(), b.State())
	}
	if last := log[1][len(log[1])-1]; last.Reason != ReasonHigherPriority {
		t.Fatalf("b left Master for %s, want %s", last.Reason, ReasonHigherPriority)
	}
	// a shuts down cleanly: b takes over after its Skew_Time only.
	deliver(0, a.Shutdown(now))
	up[0] = false
	if d, _ := b.Deadline(); !d.Equal(now.Add(skew100)) {
		t.Fatalf("b's timer after priority 0: %v, want now + %v", d.Sub(now), skew100)
	}
	run(now.Add(time.Second))
	if last := log[1][len(log[1])-1]; b.State() != StateMaster || last.Reason != ReasonMasterReleased {
		t.Fatalf("after a shut down: b %v (%s)", b.State(), last.Reason)
	}
	t.Logf("a died at %v, b master; a back at %v", died.Sub(t0), back.Sub(t0))
}
