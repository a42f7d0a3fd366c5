package ipvs

import (
	"net/netip"
	"slices"
	"testing"
)

func svc(addr string, port uint16, sched string) Service {
	return Service{Key: AddrKey(TCP, netip.MustParseAddr(addr), port), Scheduler: sched, Netmask: 32}
}

func dst(addr string, port uint16, w int) Destination {
	return Destination{Key: DestinationKey{netip.MustParseAddr(addr), port}, Forwarding: NAT, Weight: w}
}

func kinds(ops []Op) []string {
	var out []string
	for _, o := range ops {
		out = append(out, o.String())
	}
	return out
}

func TestDiffEqualIsEmpty(t *testing.T) {
	st := []ServiceState{
		{Service: svc("192.0.2.100", 80, "wrr"), Destinations: []Destination{dst("198.51.100.11", 80, 3), dst("198.51.100.12", 80, 1)}},
		{Service: svc("192.0.2.100", 443, "rr")},
	}
	// Observed in another order, with live connection counters: still equal.
	obs := []ServiceState{
		{Service: st[1].Service},
		{Service: st[0].Service, Destinations: []Destination{st[0].Destinations[1], st[0].Destinations[0]}},
	}
	obs[1].Destinations[0].ActiveConns = 7
	if ops := Diff(st, obs); len(ops) != 0 {
		t.Fatalf("Diff of equal states = %q", kinds(ops))
	}
	if ops := Diff(nil, nil); len(ops) != 0 {
		t.Fatalf("Diff(nil, nil) = %q", kinds(ops))
	}
}

func TestDiffUpdatesInPlace(t *testing.T) {
	base := ServiceState{Service: svc("192.0.2.100", 80, "wrr"), Destinations: []Destination{dst("198.51.100.11", 80, 3)}}
	for name, tc := range map[string]struct {
		edit func(*ServiceState)
		want []string
	}{
		"scheduler": {func(s *ServiceState) { s.Scheduler = "rr" },
			[]string{"update service tcp/192.0.2.100:80 (scheduler wrr->rr)"}},
		"flags+timeout": {func(s *ServiceState) { s.Flags, s.Timeout = FlagPersistent, 300 },
			[]string{"update service tcp/192.0.2.100:80 (flags 0x0->0x1, timeout 0->300)"}},
		"netmask": {func(s *ServiceState) { s.Netmask = 24 },
			[]string{"update service tcp/192.0.2.100:80 (netmask /32->/24)"}},
		"weight": {func(s *ServiceState) { s.Destinations[0].Weight = 1 },
			[]string{"update destination 198.51.100.11:80 of tcp/192.0.2.100:80 (weight 3->1)"}},
		"forwarding": {func(s *ServiceState) { s.Destinations[0].Forwarding = DirectRoute },
			[]string{"update destination 198.51.100.11:80 of tcp/192.0.2.100:80 (forwarding nat->dr)"}},
		"thresholds": {func(s *ServiceState) { s.Destinations[0].UpperThreshold, s.Destinations[0].LowerThreshold = 100, 50 },
			[]string{"update destination 198.51.100.11:80 of tcp/192.0.2.100:80 (upper threshold 0->100, lower threshold 0->50)"}},
	} {
		t.Run(name, func(t *testing.T) {
			want := base
			want.Destinations = slices.Clone(base.Destinations)
			tc.edit(&want)
			got := kinds(Diff([]ServiceState{want}, []ServiceState{base}))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("ops = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDiffAddsRemovesAndOrders(t *testing.T) {
	web := svc("192.0.2.100", 80, "wrr")
	old := svc("192.0.2.100", 8080, "rr")
	observed := []ServiceState{
		{Service: web, Destinations: []Destination{dst("198.51.100.11", 80, 1), dst("198.51.100.12", 80, 1)}},
		{Service: old, Destinations: []Destination{dst("198.51.100.11", 8080, 1)}},
	}
	desired := []ServiceState{
		{Service: svc("2001:db8::100", 53, "rr"), Destinations: []Destination{dst("2001:db8::12", 53, 1), dst("2001:db8::11", 53, 1)}},
		{Service: web, Destinations: []Destination{dst("198.51.100.12", 80, 5), dst("198.51.100.13", 80, 1)}},
	}
	want := []string{
		"add destination 198.51.100.13:80 to tcp/192.0.2.100:80 (nat, weight 1)",
		"update destination 198.51.100.12:80 of tcp/192.0.2.100:80 (weight 1->5)",
		"delete destination 198.51.100.11:80 from tcp/192.0.2.100:80",
		"add service tcp/[2001:db8::100]:53 (rr)",
		"add destination [2001:db8::11]:53 to tcp/[2001:db8::100]:53 (nat, weight 1)",
		"add destination [2001:db8::12]:53 to tcp/[2001:db8::100]:53 (nat, weight 1)",
		"delete service tcp/192.0.2.100:8080",
	}
	if got := kinds(Diff(desired, observed)); !slices.Equal(got, want) {
		t.Fatalf("ops =\n%q\nwant\n%q", got, want)
	}
}

func TestDiffKeyChangeIsNewObject(t *testing.T) {
	// Changing the protocol makes a different service: add the new, delete the old.
	udp := svc("192.0.2.53", 53, "rr")
	udp.Key.Protocol = UDP
	got := kinds(Diff([]ServiceState{{Service: udp}}, []ServiceState{{Service: svc("192.0.2.53", 53, "rr")}}))
	want := []string{"add service udp/192.0.2.53:53 (rr)", "delete service tcp/192.0.2.53:53"}
	if !slices.Equal(got, want) {
		t.Fatalf("ops = %q, want %q", got, want)
	}
}

func TestServiceKeys(t *testing.T) {
	if k := AddrKey(UDP, netip.MustParseAddr("2001:db8::1"), 53); k.Family != 6 || k.String() != "udp/[2001:db8::1]:53" {
		t.Errorf("v6 key = %+v %s", k, k)
	}
	if k := MarkKey(4, 7); k.String() != "fwmark/7/ipv4" {
		t.Errorf("mark key = %s", k)
	}
	if AddrKey(TCP, netip.MustParseAddr("192.0.2.1"), 80) == MarkKey(4, 80) {
		t.Error("address and fwmark keys collide")
	}
}

// BenchmarkDiffConverged10k measures a resync pass's diff for 10,000 services x 4 real
// servers with nothing to do (the steady state).
func BenchmarkDiffConverged10k(b *testing.B) {
	var st []ServiceState
	for i := range 10000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		s := ServiceState{Service: Service{Key: AddrKey(TCP, a, 80), Scheduler: "wrr", Netmask: 32}}
		for j := range 4 {
			s.Destinations = append(s.Destinations, Destination{Key: DestinationKey{netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(j)}), 80}, Weight: 1})
		}
		st = append(st, s)
	}
	obs := slices.Clone(st)
	b.ResetTimer()
	for range b.N {
		if ops := Diff(st, obs); len(ops) != 0 {
			b.Fatal(len(ops))
		}
	}
}
