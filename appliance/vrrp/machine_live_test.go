package vrrp

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func startMaster() input { return (*Machine).StartMaster }

// reconf is a live Reconfigure that must succeed.
func reconf(t *testing.T, mod func(*Config)) input {
	return func(m *Machine, now time.Time) Output {
		c := m.Config()
		mod(&c)
		if err := m.Reconfigure(now, c); err != nil {
			t.Errorf("Reconfigure: %v", err)
		}
		return Output{}
	}
}

func runSteps(t *testing.T, cfg Config, steps []step) *Machine {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		now := t0.Add(s.at)
		before := m.State()
		out := s.in(m, now)
		var acts []string
		for _, a := range out.Actions {
			acts = append(acts, a.String())
		}
		if got := strings.Join(acts, " "); got != s.acts {
			t.Errorf("step %d at %v: actions %q, want %q", i, s.at, got, s.acts)
		}
		if m.State() != s.state {
			t.Errorf("step %d at %v: state %v, want %v", i, s.at, m.State(), s.state)
		}
		dl, ok := m.Deadline()
		if s.timer == noTimer && ok {
			t.Errorf("step %d at %v: timer at %v, want none", i, s.at, dl.Sub(t0))
		} else if s.timer != noTimer && (!ok || !dl.Equal(t0.Add(s.timer))) {
			t.Errorf("step %d at %v: timer at %v (set %t), want %v", i, s.at, dl.Sub(t0), ok, s.timer)
		}
		want := []Transition(nil)
		if s.tr != "" {
			want = []Transition{{At: now, From: before, To: s.state, Reason: s.tr}}
		}
		if len(out.Transitions) != len(want) || len(want) == 1 && out.Transitions[0] != want[0] {
			t.Errorf("step %d at %v: transitions %+v, want %+v", i, s.at, out.Transitions, want)
		}
		if s.check != nil {
			s.check(t, m)
		}
	}
	return m
}

func TestStartMaster(t *testing.T) {
	B, M, F := StateBackup, StateMaster, StateFault
	sec := time.Second
	t.Run("master at once, steps down for a better master", func(t *testing.T) {
		runSteps(t, mcfg(), []step{
			{at: 0, in: startMaster(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: sec, tr: ReasonInitialMaster},
			{at: sec, in: tick(), acts: "SendAdvert(100)", state: M, timer: 2 * sec},
			{at: 1500 * ms, in: recv(150, lowerIP, sec), acts: "BecomeBackup(Backup)", state: B, timer: 1500*ms + mdi100, tr: ReasonHigherPriority},
			{at: 1600 * ms, in: startMaster(), state: B, timer: 1500*ms + mdi100},
		})
	})
	t.Run("lower master answered, stays master", func(t *testing.T) {
		runSteps(t, mcfg(), []step{
			{at: 0, in: startMaster(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: sec, tr: ReasonInitialMaster},
			{at: 100 * ms, in: recv(50, higherIP, sec), acts: "SendAdvert(100)", state: M, timer: 1100 * ms},
		})
	})
	t.Run("fault first, then backup like a normal start", func(t *testing.T) {
		runSteps(t, mcfg(), []step{
			{at: 0, in: fault(true), state: StateInitialize, timer: noTimer},
			{at: 0, in: startMaster(), acts: "BecomeBackup(Fault)", state: F, timer: noTimer, tr: ReasonFault},
			{at: sec, in: fault(false), acts: "BecomeBackup(Backup)", state: B, timer: sec + mdi100, tr: ReasonFaultCleared},
		})
	})
	t.Run("owner", func(t *testing.T) {
		runSteps(t, mcfg(func(c *Config) { c.Priority = 255 }), []step{
			{at: 0, in: startMaster(), acts: "SendAdvert(255) BecomeMaster(accept=true)", state: M, timer: sec, tr: ReasonAddressOwner},
		})
	})
}

func TestReconfigure(t *testing.T) {
	B, M := StateBackup, StateMaster
	sec := time.Second
	vips := func(c *Config) { c.VIPs = []netip.Addr{mustAddr("192.0.2.100"), mustAddr("192.0.2.101")} }
	t.Run("master: new interval and addresses, no transition", func(t *testing.T) {
		m := runSteps(t, mcfg(), []step{
			{at: 0, in: startMaster(), acts: "SendAdvert(100) BecomeMaster(accept=false)", state: M, timer: sec, tr: ReasonInitialMaster},
			{at: 100 * ms, in: reconf(t, func(c *Config) { c.AdvertInterval = 200 * ms; vips(c) }), state: M, timer: 300 * ms},
			{at: 300 * ms, in: tick(), acts: "SendAdvert(100)", state: M, timer: 500 * ms},
			// A longer interval does not delay the advert already due.
			{at: 400 * ms, in: reconf(t, func(c *Config) { c.AdvertInterval = 2 * sec }), state: M, timer: 500 * ms},
			{at: 500 * ms, in: tick(), acts: "SendAdvert(100)", state: M, timer: 2500 * ms},
		})
		if c := m.Config(); len(c.VIPs) != 2 || c.AdvertInterval != 2*sec || m.MasterAdverInterval() != 2*sec {
			t.Errorf("config after reconfigure: %+v, master interval %v", c, m.MasterAdverInterval())
		}
		if c := m.Config(); c.Advertisement(100).Interval != 200 || len(c.Advertisement(100).Addresses) != 2 {
			t.Errorf("advert after reconfigure: %+v", c.Advertisement(100))
		}
	})
	t.Run("v3 backup keeps the learned interval", func(t *testing.T) {
		m := runSteps(t, mcfg(), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: mdi100, tr: ReasonStartup},
			{at: 100 * ms, in: reconf(t, func(c *Config) { c.AdvertInterval = 200 * ms }), state: B, timer: mdi100},
		})
		if m.MasterAdverInterval() != sec {
			t.Errorf("backup master interval %v, want the learned 1s", m.MasterAdverInterval())
		}
		m.Receive(t0.Add(sec), Advert{Src: mustAddr(higherIP), Priority: 150, Interval: 200 * ms})
		if m.MasterAdverInterval() != 200*ms {
			t.Errorf("backup master interval %v, want 200ms learned", m.MasterAdverInterval())
		}
	})
	t.Run("v2 backup takes the new interval", func(t *testing.T) {
		m := runSteps(t, mcfg(func(c *Config) { c.Version = 2 }), []step{
			{at: 0, in: start(), acts: "BecomeBackup(Backup)", state: B, timer: 3*sec + skew100, tr: ReasonStartup},
			{at: 100 * ms, in: reconf(t, func(c *Config) { c.AdvertInterval = 2 * sec }), state: B, timer: 3*sec + skew100},
		})
		if m.MasterAdverInterval() != 2*sec {
			t.Errorf("v2 backup master interval %v, want 2s", m.MasterAdverInterval())
		}
	})
	t.Run("refused changes", func(t *testing.T) {
		for name, mod := range map[string]func(*Config){
			"vrid":    func(c *Config) { c.VRID = 2 },
			"version": func(c *Config) { c.Version = 2 },
			"owner":   func(c *Config) { c.Priority = 255 },
			"primary": func(c *Config) { c.PrimaryAddr = mustAddr(lowerIP) },
			"invalid": func(c *Config) { c.AdvertInterval = 5 * ms },
		} {
			m, _ := New(mcfg())
			c := m.Config()
			mod(&c)
			if err := m.Reconfigure(t0, c); err == nil {
				t.Errorf("%s change accepted", name)
			}
		}
		m, _ := New(mcfg())
		c := m.Config()
		c.Priority = 120
		if err := m.Reconfigure(t0, c); err != nil {
			t.Errorf("non-owner priority change refused: %v", err)
		}
	})
}
