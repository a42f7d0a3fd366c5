package halfopen

import "golang.org/x/net/bpf"

// filter is the socket filter of a family's raw socket: it keeps only segments to a
// port in [base, base+n) that carry a RST or both SYN and ACK, so the socket does
// not queue a copy of every other TCP segment this host receives. An IPv4 raw
// socket sees the IP header first; an IPv6 one starts at the TCP header.
func filter(v4 bool, base, n uint16) ([]bpf.RawInstruction, error) {
	load := func(off, size uint32) bpf.Instruction {
		if v4 {
			return bpf.LoadIndirect{Off: off, Size: int(size)}
		}
		return bpf.LoadAbsolute{Off: off, Size: int(size)}
	}
	prog := []bpf.Instruction{
		load(2, 2), // destination port
		bpf.JumpIf{Cond: bpf.JumpLessThan, Val: uint32(base), SkipTrue: 5},
		bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(base) + uint32(n), SkipTrue: 4},
		load(13, 1), // flags
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: flagRST, SkipTrue: 3},
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: flagSYN | flagACK},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: flagSYN | flagACK, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 0xffff},
	}
	if v4 {
		// X = the IPv4 header length.
		prog = append([]bpf.Instruction{bpf.LoadMemShift{Off: 0}}, prog...)
	}
	return bpf.Assemble(prog)
}
