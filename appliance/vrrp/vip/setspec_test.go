package vip_test

import (
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/vrrp/vip"
	"github.com/lvsbox/lvsbox/appliance/vrrp/vip/viptest"
)

// delKernel records address deletions.
type delKernel struct {
	*viptest.Kernel
	mu   sync.Mutex
	dels []netip.Prefix
}

func (k *delKernel) DelAddr(i int, p netip.Prefix) error {
	k.mu.Lock()
	k.dels = append(k.dels, p)
	k.mu.Unlock()
	return k.Kernel.DelAddr(i, p)
}

func (k *delKernel) deleted() []netip.Prefix {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.dels)
}

func TestWorkerSetSpec(t *testing.T) {
	pfx := netip.MustParsePrefix
	r1 := vip.Route{Dst: pfx("203.0.113.0/24"), Gateway: netip.MustParseAddr("192.0.2.1")}
	r2 := vip.Route{Dst: pfx("198.51.100.0/24"), Gateway: netip.MustParseAddr("192.0.2.1")}
	k, a := &delKernel{Kernel: newFakeKernel()}, &viptest.Announcer{}
	spec := vip.Spec{Interface: "eth0", VIPs: []netip.Prefix{pfx("192.0.2.100/24"), pfx("192.0.2.101/24")}, Routes: []vip.Route{r1},
		Announce: vip.Announce{Count: 1}}
	w := startWorker(t, spec, k, a)
	w.SetMaster(true)
	eventually(t, "VIPs added", func() bool { return k.Has("eth0", "192.0.2.100/24") && k.Has("eth0", "192.0.2.101/24") })

	next := spec
	next.VIPs = []netip.Prefix{pfx("192.0.2.100/24"), pfx("192.0.2.102/24")}
	next.Routes = []vip.Route{r2}
	if err := w.SetSpec(next); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new set held", func() bool {
		return k.Has("eth0", "192.0.2.102/24") && !k.Has("eth0", "192.0.2.101/24") && slices.Equal(k.Routes(), []string{r2.String()})
	})
	eventually(t, "new VIP announced", func() bool {
		sent, _ := a.Sent()
		return slices.Contains(sent, "garp 2 02:00:00:00:00:02 192.0.2.102")
	})
	if d := k.deleted(); !slices.Equal(d, []netip.Prefix{pfx("192.0.2.101/24")}) {
		t.Errorf("deleted %v, want only the dropped 192.0.2.101/24", d)
	}

	// As backup only the spec changes; becoming master uses it.
	w.SetMaster(false)
	eventually(t, "released", func() bool { return !k.Has("eth0", "192.0.2.100/24") && !k.Has("eth0", "192.0.2.102/24") })
	next.VIPs = []netip.Prefix{pfx("192.0.2.103/24")}
	if err := w.SetSpec(next); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if k.Has("eth0", "192.0.2.103/24") {
		t.Error("backup added a VIP")
	}
	w.SetMaster(true)
	eventually(t, "master with the latest set", func() bool { return k.Has("eth0", "192.0.2.103/24") })

	bad := next
	bad.Interface = "eth1"
	if err := w.SetSpec(bad); err == nil {
		t.Error("interface change accepted")
	}
}
