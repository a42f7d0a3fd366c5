package config

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestWithDefaults(t *testing.T) {
	zero := 0
	c := Config{
		Interfaces: []Interface{{Name: "eth0"}, {Name: "mgmt", Role: RoleManagement, DHCP: true}, {Name: "bond0", Bond: &Bond{Members: []string{"eth0"}}}},
		Routes:     []Route{{Destination: pfx("0.0.0.0/0"), Device: "mgmt"}},
		VirtualServices: []VirtualService{{
			Name: "dns", Address: addr("192.0.2.53"), Port: 53,
			Persistence: &Persistence{Timeout: Duration(time.Minute)},
			HealthCheck: &HealthCheck{Type: CheckHTTP},
			SorryServer: &SorryServer{Address: addr("192.0.2.99")},
			Quorum:      &Quorum{},
			RealServers: []RealServer{
				{Address: addr("198.51.100.1")},
				{Address: addr("198.51.100.2"), Weight: &zero, Forwarding: ForwardingTun},
			},
		}, {
			Name: "mark", Fwmark: 7, Persistence: &Persistence{Timeout: Duration(time.Minute)},
			HealthCheck: &HealthCheck{Type: CheckSMTP},
			RealServers: []RealServer{{Address: addr("198.51.100.3"), HealthCheck: &HealthCheck{Type: CheckNone}}},
		}},
		VRRPScripts:   []VRRPScript{{Name: "s", Path: "/bin/true", Interval: Duration(5 * time.Second)}},
		VRRPInstances: []VRRPInstance{{Name: "v", Interface: "eth0", VRID: 1, VirtualAddresses: vas("192.0.2.53/32")}},
	}
	d := c.WithDefaults()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaulted config does not validate: %v", err)
	}
	if w := d.Warnings(); len(w) != 0 {
		t.Errorf("defaults cause warnings: %v", w)
	}
	if got := d.System.TimeZone; got != DefaultTimeZone {
		t.Errorf("time zone %q", got)
	}
	if in := d.Interfaces[0]; in.Role != RoleData || *in.Offload.GRO || *in.Offload.LRO || *in.Offload.GROHW || in.Offload.GSO != nil || in.Offload.TSO != nil {
		t.Errorf("data interface defaults: %+v", in)
	}
	if in := d.Interfaces[1]; in.Offload != (Offload{}) {
		t.Errorf("management interface offloads were set: %+v", in.Offload)
	}
	if b := d.Interfaces[2].Bond; b.Mode != DefaultBondMode || b.MIIMon != DefaultMIIMon {
		t.Errorf("bond defaults: %+v", b)
	}
	if d.Routes[0].Table != TableMain {
		t.Errorf("route table %d", d.Routes[0].Table)
	}
	if g := d.IPVS; g.Timeouts.TCP != DefaultTCPTimeout || g.Timeouts.TCPFin != DefaultTCPFinTimeout || g.Timeouts.UDP != DefaultUDPTimeout ||
		*g.DrainTime != DefaultDrainTime || g.SyncDaemon.Enabled || g.SyncDaemon.MulticastGroup != DefaultSyncGroup ||
		g.SyncDaemon.Port != DefaultSyncPort || g.SyncDaemon.TTL != DefaultSyncTTL {
		t.Errorf("ipvs defaults: %+v", g)
	}
	vs := d.VirtualServices[0]
	if vs.Protocol != DefaultProtocol || vs.Scheduler != DefaultScheduler || vs.Forwarding != DefaultForwarding || vs.Tunnel != nil {
		t.Errorf("service defaults not applied: %+v", vs)
	}
	if vs.Persistence.Netmask != DefaultPersistMask4 || vs.Persistence.PrefixLength != 0 || vs.SorryServer.Port != 53 || vs.Quorum.MinimumWeight != 1 {
		t.Errorf("persistence/sorry/quorum defaults: %+v %+v %+v", vs.Persistence, vs.SorryServer, vs.Quorum)
	}
	hc := vs.HealthCheck
	if hc.Interval != DefaultCheckInterval || hc.Timeout != DefaultCheckTimeout || hc.Rise != DefaultCheckRise || hc.Fall != DefaultCheckFall ||
		hc.RetryDelay != DefaultCheckRetryDelay || hc.OnFailure != DefaultOnFailure || hc.HTTP == nil ||
		hc.HTTP.Method != "GET" || hc.HTTP.Path != "/" || len(hc.HTTP.ExpectStatus) != 1 || hc.HTTP.ExpectStatus[0] != "200-299" {
		t.Errorf("health check defaults: %+v %+v", hc, hc.HTTP)
	}
	if rs := vs.RealServers[0]; rs.Port != 53 || *rs.Weight != DefaultWeight || rs.Forwarding != DefaultForwarding || rs.AdminState != StateEnabled || rs.Tunnel != nil {
		t.Errorf("real server defaults not applied: %+v", rs)
	}
	if rs := vs.RealServers[1]; *rs.Weight != 0 || rs.Forwarding != ForwardingTun || rs.Tunnel == nil || rs.Tunnel.Type != TunnelIPIP {
		t.Errorf("explicit values overridden or tunnel not defaulted: %+v", rs)
	}
	mark := d.VirtualServices[1]
	if mark.Protocol != "" || mark.Family != FamilyIPv4 || mark.RealServers[0].Port != 0 || mark.HealthCheck.SMTP.HeloName != DefaultHeloName {
		t.Errorf("fwmark defaults: %+v", mark)
	}
	if none := mark.RealServers[0].HealthCheck; *none != (HealthCheck{Type: CheckNone}) {
		t.Errorf("a none check got defaults: %+v", none)
	}
	v := d.VRRPInstances[0]
	if v.Version != 3 || v.Priority != DefaultPriority || v.AdvertInterval != DefaultAdvertInterval || !*v.Preempt ||
		v.InitialState != InitialBackup || v.GARP.Count != DefaultGARPCount || v.GARP.Interval != DefaultGARPInterval {
		t.Errorf("vrrp defaults: %+v", v)
	}
	if sc := d.VRRPScripts[0]; sc.Interval != Duration(5*time.Second) || sc.Timeout != sc.Interval || sc.Rise != 1 || sc.Fall != 1 {
		t.Errorf("vrrp script defaults: %+v", sc)
	}
	// The original is untouched (deep copy), and the copy shares no pointers.
	if c.VirtualServices[0].Protocol != "" || c.VirtualServices[0].RealServers[0].Weight != nil || c.VirtualServices[0].HealthCheck.HTTP != nil {
		t.Errorf("WithDefaults modified its receiver: %+v", c.VirtualServices[0])
	}
	*d.VirtualServices[0].RealServers[1].Weight = 9
	if zero != 0 {
		t.Error("WithDefaults shares weight pointers with its receiver")
	}
}

func TestWithDefaultsIdempotentAndValid(t *testing.T) {
	for _, name := range []string{fullExample, "testdata/draft.json", "../../board/qemu-x86_64/seed.json"} {
		c := decodeFile(t, name)
		d := c.WithDefaults()
		if err := d.Validate(); err != nil {
			t.Errorf("%s: defaulted config does not validate: %v", name, err)
		}
		if w := d.Warnings(); len(w) != 0 {
			t.Errorf("%s: defaulted config has warnings: %v", name, w)
		}
		if dd := d.WithDefaults(); !reflect.DeepEqual(d, dd) {
			t.Errorf("%s: WithDefaults is not idempotent", name)
		}
	}
	ds := decodeFile(t, fullExample).WithDefaults()
	if rs := svc(&ds, "tls").RealServers[1]; rs.Tunnel.Type != TunnelGUE || rs.Tunnel.Port != 6080 {
		t.Errorf("explicit real-server tunnel overridden: %+v", rs.Tunnel)
	}
	if p := svc(&ds, "dns").Persistence; p.PrefixLength != 64 || p.Netmask.IsValid() {
		t.Errorf("ipv6 persistence: %+v", p)
	}
	if hc := svc(&ds, "marked").HealthCheck; hc.Script.Timeout != Duration(2*time.Second) {
		t.Errorf("explicit script timeout overridden: %v", hc.Script.Timeout)
	}
}

// TestCloneSharesNothing: after Clone, no slice, map or pointer of the copy is
// shared with the original, and the copy is equal.
func TestCloneSharesNothing(t *testing.T) {
	c := decodeFile(t, fullExample).WithDefaults()
	cl := c.Clone()
	if !reflect.DeepEqual(c, cl) {
		t.Fatal("clone differs")
	}
	before, _ := json.Marshal(c)
	n := assertNoAlias(t, "", reflect.ValueOf(c), reflect.ValueOf(cl))
	if n < 50 {
		t.Fatalf("only %d references compared; the walk is broken", n)
	}
	scribble(reflect.ValueOf(&cl).Elem())
	if after, _ := json.Marshal(c); string(after) != string(before) {
		t.Error("changing the clone changed the original")
	}
}

// assertNoAlias walks a and b together and fails when a non-nil slice, map or
// pointer is the same in both. It returns how many it compared.
func assertNoAlias(t *testing.T, path string, a, b reflect.Value) int {
	n := 0
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return 0
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s: pointer shared", path)
		}
		return 1 + assertNoAlias(t, path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() == 0 {
			return 0
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s: slice shared", path)
		}
		n++
		for i := range a.Len() {
			n += assertNoAlias(t, path+"[]", a.Index(i), b.Index(i))
		}
	case reflect.Map:
		if a.Len() == 0 {
			return 0
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s: map shared", path)
		}
		n++
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				n += assertNoAlias(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
			}
		}
	}
	return n
}

// scribble changes every string, number and bool reachable from v.
func scribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			scribble(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			scribble(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			v.SetMapIndex(k, reflect.ValueOf("x"))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				scribble(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint32:
		v.SetUint(v.Uint() + 1)
	}
}
