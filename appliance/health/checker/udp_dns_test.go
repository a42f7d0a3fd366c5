package checker

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// udpServer answers each datagram through reply (nil reply: stay silent).
func udpServer(t *testing.T, reply func([]byte) []byte) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, peer, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if out := reply(buf[:n]); out != nil {
				pc.WriteTo(out, peer)
			}
		}
	}()
	return addrPort(t, pc.LocalAddr())
}

func TestUDP(t *testing.T) {
	echo := udpServer(t, func(b []byte) []byte { return append([]byte("PONG "), b...) })
	silent := udpServer(t, func([]byte) []byte { return nil })
	cases := []struct {
		name   string
		target netip.AddrPort
		u      health.UDPSpec
		ok     bool
		text   string
	}{
		{"text", echo, health.UDPSpec{Payload: "PING", Expect: "PONG PING"}, true, "UDP reply (9 bytes) from " + echo.String() + " in "},
		{"hex", echo, health.UDPSpec{Payload: "hex:01 02", Expect: "hex:504f4e47200102"}, true, "UDP reply"},
		{"any reply", echo, health.UDPSpec{Payload: "x"}, true, "UDP reply"},
		{"wrong reply", echo, health.UDPSpec{Payload: "PING", Expect: "READY"}, false, `does not contain "READY" (got "PONG PING")`},
		{"no reply", silent, health.UDPSpec{Payload: "PING"}, false, "timeout after 200ms: no UDP reply"},
		{"refused", closedPort(t), health.UDPSpec{Payload: "PING"}, false, "receive: connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := c.u
			r := run(t, health.Spec{Type: health.TypeUDP, Timeout: 200 * time.Millisecond, UDP: &u}, c.target)
			want(t, r, c.ok, c.text)
		})
	}
}

// dnsServer is a miekg/dns server on 127.0.0.1: svc.test A 192.0.2.10, anything
// else NXDOMAIN.
func dnsServer(t *testing.T) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if q.Question[0].Name == "svc.test." && q.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR("svc.test. 60 IN A 192.0.2.10")
			m.Answer = append(m.Answer, rr)
		} else if q.Question[0].Name != "svc.test." {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: mux, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return addrPort(t, pc.LocalAddr())
}

func TestDNS(t *testing.T) {
	srv := dnsServer(t)
	cases := []struct {
		name string
		d    health.DNSSpec
		ok   bool
		text string
	}{
		{"answer", health.DNSSpec{Name: "svc.test", ExpectAnswer: "192.0.2.10"}, true, "DNS NOERROR from " + srv.String() + " (1 answers) in "},
		{"any answer", health.DNSSpec{Name: "svc.test."}, true, "DNS NOERROR"},
		{"wrong answer", health.DNSSpec{Name: "svc.test", ExpectAnswer: "192.0.2.11"}, false, `no answer "192.0.2.11" (got "192.0.2.10")`},
		{"nxdomain", health.DNSSpec{Name: "gone.test"}, false, "DNS NXDOMAIN from " + srv.String() + " (0 answers) in "},
		{"nxdomain expected", health.DNSSpec{Name: "gone.test", ExpectRcode: "nxdomain"}, true, "DNS NXDOMAIN"},
		{"no AAAA", health.DNSSpec{Name: "svc.test", QType: "AAAA", ExpectAnswer: "2001:db8::1"}, false, `no answer "2001:db8::1"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			r := run(t, health.Spec{Type: health.TypeDNS, DNS: &d}, srv)
			want(t, r, c.ok, c.text)
		})
	}
	silent := udpServer(t, func([]byte) []byte { return nil })
	r := run(t, health.Spec{Type: health.TypeDNS, Timeout: 200 * time.Millisecond, DNS: &health.DNSSpec{Name: "svc.test"}}, silent)
	want(t, r, false)
	if r.Text != "timeout after 200ms: no DNS answer" {
		t.Errorf("silent server: text %q", r.Text)
	}
}
