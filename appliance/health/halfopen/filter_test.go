package halfopen

import (
	"testing"

	"golang.org/x/net/bpf"
)

// TestFilter runs the socket filters in x/net/bpf's interpreter.
func TestFilter(t *testing.T) {
	const base, n = 40000, Ports
	var ports []uint16
	for i := range n {
		ports = append(ports, base+uint16(i)*7) // not consecutive: any set works
	}
	last := ports[n-1]
	for _, v4 := range []bool{true, false} {
		raw, err := filter(v4, ports)
		if err != nil {
			t.Fatal(err)
		}
		insns, ok := bpf.Disassemble(raw)
		if !ok {
			t.Fatalf("v4=%v: disassemble", v4)
		}
		vm, err := bpf.NewVM(insns)
		if err != nil {
			t.Fatalf("v4=%v: %v", v4, err)
		}
		for _, tc := range []struct {
			name  string
			dport uint16
			flags uint8
			keep  bool
		}{
			{"syn-ack to the first port", base, flagSYN | flagACK, true},
			{"syn-ack to the last port", last, flagSYN | flagACK, true},
			{"rst-ack", base + 21, flagRST | flagACK, true},
			{"bare rst", base + 21, flagRST, true},
			{"syn-ack below the ports", base - 1, flagSYN | flagACK, false},
			{"syn-ack between two ports", base + 1, flagSYN | flagACK, false},
			{"syn-ack above the ports", last + 1, flagSYN | flagACK, false},
			{"our own syn", base + 7, flagSYN, false},
			{"ack", base + 7, flagACK, false},
			{"fin-ack", base + 7, flagFIN | flagACK, false},
		} {
			for _, ihl := range []int{5, 6} {
				pkt := segment(80, tc.dport, tc.flags, 1)
				if v4 {
					pkt = ipv4Packet(server, box, ihl, pkt)
				}
				got, err := vm.Run(pkt)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if (got > 0) != tc.keep {
					t.Errorf("v4=%v ihl=%d %s: filter returned %d, keep %v", v4, ihl, tc.name, got, tc.keep)
				}
				if !v4 {
					break
				}
			}
		}
	}
}
