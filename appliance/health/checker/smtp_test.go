package checker

import (
	"bufio"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lvsbox/lvsbox/appliance/health"
)

// smtpServer speaks just enough SMTP: banner, then answers from reply per command
// (prefix match), until QUIT. It records the commands it saw.
func smtpServer(t *testing.T, banner string, reply map[string]string) (netip.AddrPort, chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	seen := make(chan string, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if banner == "" {
					time.Sleep(2 * time.Second)
					return
				}
				c.Write([]byte(banner))
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimSpace(line)
					seen <- line
					verb := strings.ToUpper(strings.Fields(line + " x")[0])
					if verb == "QUIT" {
						c.Write([]byte("221 bye\r\n"))
						return
					}
					if out, ok := reply[verb]; ok {
						c.Write([]byte(out))
					} else {
						c.Write([]byte("500 what\r\n"))
					}
				}
			}()
		}
	}()
	return addrPort(t, l.Addr()), seen
}

func TestSMTP(t *testing.T) {
	good, seen := smtpServer(t, "220-mx.test ESMTP\r\n220 ready\r\n", map[string]string{"EHLO": "250-mx.test\r\n250 PIPELINING\r\n"})
	r := run(t, health.Spec{Type: health.TypeSMTP, SMTP: &health.SMTPSpec{Helo: "lb1.test"}}, good)
	want(t, r, true, "SMTP 250 from "+good.String()+" in ")
	if got := <-seen; got != "EHLO lb1.test" {
		t.Errorf("server saw %q, want EHLO lb1.test", got)
	}

	old, seenOld := smtpServer(t, "220 old mailer\r\n", map[string]string{"EHLO": "502 not implemented\r\n", "HELO": "250 hello\r\n"})
	r = run(t, health.Spec{Type: health.TypeSMTP}, old)
	want(t, r, true, "SMTP 250")
	if a, b := <-seenOld, <-seenOld; a != "EHLO lvsbox" || b != "HELO lvsbox" {
		t.Errorf("server saw %q, %q; want EHLO then HELO fallback", a, b)
	}

	busy, _ := smtpServer(t, "554 no service\r\n", nil)
	r = run(t, health.Spec{Type: health.TypeSMTP}, busy)
	want(t, r, false, "SMTP banner from "+busy.String()+": 554 no service")

	refusing, _ := smtpServer(t, "220 hi\r\n", map[string]string{"EHLO": "421 closing\r\n"})
	r = run(t, health.Spec{Type: health.TypeSMTP}, refusing)
	want(t, r, false, "SMTP EHLO/HELO from "+refusing.String()+": 421 closing")

	mute, _ := smtpServer(t, "", nil)
	r = run(t, health.Spec{Type: health.TypeSMTP, Timeout: 200 * time.Millisecond}, mute)
	want(t, r, false)
	if r.Text != "timeout after 200ms waiting for banner" {
		t.Errorf("mute server: text %q", r.Text)
	}
}
