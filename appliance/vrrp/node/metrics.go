package node

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lvsbox/lvsbox/appliance/vrrp"
)

// Collector exposes the manager's snapshot as Prometheus metrics
// (lvsbox_vrrp_*). Register it once per registry.
type Collector struct {
	m *Manager

	state, priority, basePriority, vipsHeld               *prometheus.Desc
	sent, received, zeroSent, zeroReceived, becameMaster  *prometheus.Desc
	dualMaster, dropped, warnings, sendErrors, announce   *prometheus.Desc
	transitions, sockReceived, sockDropped, eventsDropped *prometheus.Desc
	rechecks                                              *prometheus.Desc
}

// NewCollector returns the collector of m.
func NewCollector(m *Manager) *Collector {
	inst := []string{"instance", "interface", "vrid"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("lvsbox_vrrp_"+name, help, labels, nil)
	}
	return &Collector{m: m,
		state:         d("state", "Instance state: 0 Initialize, 1 Backup, 2 Master, 3 Fault.", inst...),
		priority:      d("priority", "Effective priority (base plus tracking).", inst...),
		basePriority:  d("base_priority", "Configured priority.", inst...),
		vipsHeld:      d("vips_held", "1 while the virtual addresses are held on this host.", inst...),
		sent:          d("adverts_sent_total", "Advertisements sent.", inst...),
		received:      d("adverts_received_total", "Advertisements that passed every receive check.", inst...),
		zeroSent:      d("priority_zero_sent_total", "Priority 0 (stopping) advertisements sent.", inst...),
		zeroReceived:  d("priority_zero_received_total", "Priority 0 advertisements received.", inst...),
		becameMaster:  d("became_master_total", "Transitions to Master.", inst...),
		dualMaster:    d("dual_master_episodes_total", "Episodes of another, lower-priority master heard while master.", inst...),
		dropped:       d("rx_dropped_total", "Advertisements dropped by an instance receive check.", append(inst, "reason")...),
		warnings:      d("rx_warnings_total", "Advertisements accepted with a warning.", append(inst, "reason")...),
		sendErrors:    d("send_errors_total", "Advertisements that could not be sent.", inst...),
		announce:      d("announcements_total", "Rounds of gratuitous ARP / unsolicited neighbour advertisements.", inst...),
		transitions:   d("transitions_total", "State transitions by state entered.", append(inst, "to")...),
		sockReceived:  d("socket_received_total", "Messages read from a VRRP socket.", "interface", "family"),
		sockDropped:   d("socket_dropped_total", "Messages dropped before reaching an instance.", "interface", "family", "reason"),
		eventsDropped: d("events_dropped_total", "Transition events lost to a full event channel."),
		rechecks:      d("takeover_rechecks_total", "Takeovers put off because adverts were waiting unread (starved process).", inst...),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.priority, c.basePriority, c.vipsHeld, c.sent, c.received,
		c.zeroSent, c.zeroReceived, c.becameMaster, c.dualMaster, c.dropped, c.warnings, c.sendErrors,
		c.announce, c.transitions, c.sockReceived, c.sockDropped, c.eventsDropped, c.rechecks} {
		ch <- d
	}
}

// stateValue is the lvsbox_vrrp_state value.
func stateValue(s string) float64 {
	for _, st := range []vrrp.State{vrrp.StateInitialize, vrrp.StateBackup, vrrp.StateMaster, vrrp.StateFault} {
		if st.String() == s {
			return float64(st)
		}
	}
	return -1
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	for _, s := range c.m.Snapshot() {
		l := []string{s.Name, s.Interface, strconv.Itoa(int(s.VRID))}
		held := 0.0
		if s.VIPsHeld {
			held = 1
		}
		ct := s.Counters
		for _, m := range []struct {
			d *prometheus.Desc
			t prometheus.ValueType
			v float64
		}{
			{c.state, gauge, stateValue(s.State)}, {c.priority, gauge, float64(s.Priority)},
			{c.basePriority, gauge, float64(s.BasePriority)}, {c.vipsHeld, gauge, held},
			{c.sent, counter, float64(ct.AdvertsSent)}, {c.received, counter, float64(ct.AdvertsReceived)},
			{c.zeroSent, counter, float64(ct.PriorityZeroSent)}, {c.zeroReceived, counter, float64(ct.PriorityZeroReceived)},
			{c.becameMaster, counter, float64(ct.BecameMaster)}, {c.dualMaster, counter, float64(ct.DualMasterEpisodes)},
			{c.sendErrors, counter, float64(ct.SendErrors)}, {c.announce, counter, float64(ct.Announcements)},
			{c.rechecks, counter, float64(ct.TakeoverRechecks)},
		} {
			ch <- prometheus.MustNewConstMetric(m.d, m.t, m.v, l...)
		}
		for r, v := range ct.Dropped {
			ch <- prometheus.MustNewConstMetric(c.dropped, counter, float64(v), append(l, r)...)
		}
		for r, v := range ct.Warnings {
			ch <- prometheus.MustNewConstMetric(c.warnings, counter, float64(v), append(l, r)...)
		}
		for to, v := range ct.Transitions {
			ch <- prometheus.MustNewConstMetric(c.transitions, counter, float64(v), append(l, to)...)
		}
	}
	for _, s := range c.m.Sockets() {
		ch <- prometheus.MustNewConstMetric(c.sockReceived, counter, float64(s.Stats.Received), s.Interface, s.Family)
		for r, v := range s.Stats.Dropped {
			ch <- prometheus.MustNewConstMetric(c.sockDropped, counter, float64(v), s.Interface, s.Family, string(r))
		}
	}
	ch <- prometheus.MustNewConstMetric(c.eventsDropped, counter, float64(c.m.EventsDropped()))
}
