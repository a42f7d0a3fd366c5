package halfopen

import (
	"testing"

	"golang.org/x/net/bpf"
)

// TestFilter runs the socket filters in x/net/bpf's interpreter.
func TestFilter(t *testing.T) {
	const base, n = 40000, Ports
	for _, v4 := range []bool{true, false} {
		raw, err := filter(v4, base, n)
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
			{"syn-ack to first port", base, flagSYN | flagACK, true},
			{"syn-ack to last port", base + n - 1, flagSYN | flagACK, true},
			{"rst-ack", base + 3, flagRST | flagACK, true},
			{"bare rst", base + 3, flagRST, true},
			{"syn-ack below the block", base - 1, flagSYN | flagACK, false},
			{"syn-ack above the block", base + n, flagSYN | flagACK, false},
			{"our own syn", base + 1, flagSYN, false},
			{"ack", base + 1, flagACK, false},
			{"fin-ack", base + 1, flagFIN | flagACK, false},
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
