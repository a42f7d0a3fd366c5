package halfopen

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// filter is the socket filter of a family's raw socket: it keeps only segments to
// one of ports that carry a RST or both SYN and ACK, so the socket does not queue
// a copy of every other TCP segment this host receives. An IPv4 raw socket sees
// the IP header first; an IPv6 one starts at the TCP header.
func filter(v4 bool, ports []uint16) ([]bpf.RawInstruction, error) {
	if len(ports) == 0 || len(ports) > 200 {
		return nil, fmt.Errorf("filter: %d ports (1-200)", len(ports))
	}
	load := func(off, size uint32) bpf.Instruction {
		if v4 {
			return bpf.LoadIndirect{Off: off, Size: int(size)}
		}
		return bpf.LoadAbsolute{Off: off, Size: int(size)}
	}
	var prog []bpf.Instruction
	if v4 {
		prog = append(prog, bpf.LoadMemShift{Off: 0}) // X = the IPv4 header length
	}
	prog = append(prog, load(2, 2)) // destination port
	for i, p := range ports {
		// On a match, skip the remaining comparisons and the drop.
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(p), SkipTrue: uint8(len(ports) - i)})
	}
	prog = append(prog,
		bpf.RetConstant{Val: 0},
		load(13, 1), // flags
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: flagRST, SkipTrue: 3},
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: flagSYN | flagACK},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: flagSYN | flagACK, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 0xffff},
	)
	return bpf.Assemble(prog)
}
