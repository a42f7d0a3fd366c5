package vmlab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
)

// fakeQMP serves one QMP session on conn: greeting, capabilities, then the
// given reply to the next command (after an unrelated event). It records the
// commands it got.
func fakeQMP(t *testing.T, conn net.Conn, reply string, got chan<- string) {
	t.Helper()
	go func() {
		defer conn.Close()
		defer close(got)
		r := bufio.NewReader(conn)
		fmt.Fprintln(conn, `{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}`)
		for i := 0; i < 2; i++ {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			var req qmpRequest
			if err := json.Unmarshal([]byte(line), &req); err != nil {
				return
			}
			got <- req.Execute
			if i == 0 {
				fmt.Fprintln(conn, `{"return": {}}`)
				continue
			}
			fmt.Fprintln(conn, `{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "POWERDOWN"}`)
			fmt.Fprintln(conn, reply)
		}
	}()
}

func TestQMPSessionRunsCommandAfterCapabilities(t *testing.T) {
	client, server := net.Pipe()
	got := make(chan string, 4)
	fakeQMP(t, server, `{"return": {}}`, got)
	ret, err := qmpSession(client, "system_powerdown", nil)
	client.Close()
	if err != nil {
		t.Fatal(err)
	}
	if string(ret) != "{}" {
		t.Fatalf("return %s", ret)
	}
	var cmds []string
	for c := range got {
		cmds = append(cmds, c)
	}
	if strings.Join(cmds, ",") != "qmp_capabilities,system_powerdown" {
		t.Fatalf("commands %v", cmds)
	}
}

func TestQMPSessionReportsErrors(t *testing.T) {
	client, server := net.Pipe()
	got := make(chan string, 4)
	fakeQMP(t, server, `{"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}`, got)
	_, err := qmpSession(client, "nope", nil)
	client.Close()
	if err == nil || !strings.Contains(err.Error(), "CommandNotFound") {
		t.Fatalf("err %v, want CommandNotFound", err)
	}
	for range got {
	}
}

func TestQMPSessionNeedsGreeting(t *testing.T) {
	client, server := net.Pipe()
	go func() {
		fmt.Fprintln(server, `{"return": {}}`)
		server.Close()
	}()
	if _, err := qmpSession(client, "system_powerdown", nil); err == nil {
		t.Fatal("accepted a server without greeting")
	}
	client.Close()
}
