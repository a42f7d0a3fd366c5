package service

import (
	"slices"
	"testing"
)

func members(weights []int, up []bool) []Member {
	ms := make([]Member, len(weights))
	for i := range weights {
		ms[i] = Member{ID: string(rune('a' + i)), Weight: weights[i], Checked: true, Up: up[i]}
	}
	return ms
}

func TestEffectiveWeights(t *testing.T) {
	ms := []Member{
		{ID: "up", Weight: 3, Checked: true, Up: true},
		{ID: "down-remove", Weight: 2, Checked: true, Up: false},
		{ID: "down-quiesce", Weight: 2, Checked: true, Up: false, OnFailure: Quiesce},
		{ID: "unchecked", Weight: 1},
		{ID: "dynamic", Weight: 5, Checked: true, Up: true, Dynamic: 7, HasDynamic: true},
		{ID: "dynamic-0", Weight: 5, Checked: true, Up: true, Dynamic: 0, HasDynamic: true},
	}
	out := Evaluate(Spec{}, State{}, ms)
	want := []Desired{
		{ID: "up", Present: true, Weight: 3, Up: true},
		{ID: "down-remove"},
		{ID: "down-quiesce", Present: true, Weight: 0},
		{ID: "unchecked", Present: true, Weight: 1, Up: true},
		{ID: "dynamic", Present: true, Weight: 7, Up: true},
		{ID: "dynamic-0", Present: true, Weight: 0, Up: true},
	}
	if !slices.Equal(out.Members, want) {
		t.Errorf("members\n got %+v\nwant %+v", out.Members, want)
	}
	if out.UpCount != 4 || out.UpWeight != 11 || !out.QuorumUp || out.Sorry {
		t.Errorf("outcome %+v", out)
	}
}

func TestSorryWhenNoneUp(t *testing.T) {
	spec := Spec{Sorry: true}
	out := Evaluate(spec, State{}, members([]int{1, 1}, []bool{false, false}))
	if !out.Sorry || out.QuorumUp || len(out.Events) != 1 || out.Events[0].Kind != "sorry-on" {
		t.Fatalf("none up: %+v", out)
	}
	out = Evaluate(spec, out.State, members([]int{1, 1}, []bool{true, false}))
	if out.Sorry || !out.QuorumUp || !out.Members[0].Present || len(out.Events) != 2 {
		t.Fatalf("one up: %+v", out)
	}
	if out.Events[0].Kind != "quorum-gained" || out.Events[1].Kind != "sorry-off" {
		t.Errorf("events %+v", out.Events)
	}
	// Without a sorry server, nothing is "sorry".
	if out := Evaluate(Spec{}, State{}, members([]int{1}, []bool{false})); out.Sorry {
		t.Error("sorry without a sorry server")
	}
	// Up servers all with weight 0: up weight 0, quorum lost, sorry on.
	if out := Evaluate(spec, State{}, members([]int{0, 0}, []bool{true, true})); !out.Sorry || out.QuorumUp {
		t.Errorf("weight 0 servers: %+v", out)
	}
}

// TestQuorumHysteresis walks the up weight 0..6..0 with quorum 3, hysteresis 1:
// gained at >= 4, lost at < 2.
func TestQuorumHysteresis(t *testing.T) {
	spec := Spec{Quorum: 3, Hysteresis: 1, Sorry: true, Action: QuorumPriority, PriorityDelta: -50}
	weights := []int{1, 1, 1, 1, 1, 1}
	st := State{}
	var got []bool
	var deltas []int
	steps := []int{0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4}
	for _, n := range steps {
		up := make([]bool, len(weights))
		for i := 0; i < n; i++ {
			up[i] = true
		}
		out := Evaluate(spec, st, members(weights, up))
		st = out.State
		got = append(got, out.QuorumUp)
		deltas = append(deltas, out.PriorityDelta)
		if out.Sorry == out.QuorumUp {
			t.Errorf("up %d: sorry %v with quorum %v", n, out.Sorry, out.QuorumUp)
		}
		if out.Sorry {
			for _, m := range out.Members {
				if m.Present {
					t.Errorf("up %d: %s present while the sorry server is active", n, m.ID)
				}
			}
		}
	}
	//            0      1      2      3      4     5     6     5     4     3     2     1      0      1      2      3      4
	want := []bool{false, false, false, false, true, true, true, true, true, true, true, false, false, false, false, false, true}
	if !slices.Equal(got, want) {
		t.Errorf("quorum along %v\n got %v\nwant %v", steps, got, want)
	}
	for i, d := range deltas {
		if (d == -50) == want[i] {
			t.Errorf("step %d: priority delta %d with quorum %v", i, d, want[i])
		}
	}
}

func TestQuorumFirstEvaluationAndFault(t *testing.T) {
	spec := Spec{Quorum: 3, Hysteresis: 1, Action: QuorumFault}
	// First evaluation: no hysteresis, plain >= quorum.
	out := Evaluate(spec, State{}, members([]int{3}, []bool{true}))
	if !out.QuorumUp || out.Fault || len(out.Events) != 0 {
		t.Errorf("first evaluation at quorum: %+v", out)
	}
	out = Evaluate(spec, State{}, members([]int{2}, []bool{true}))
	if out.QuorumUp || !out.Fault {
		t.Errorf("first evaluation below quorum: %+v", out)
	}
	// Quorum 0 is taken as 1; hysteresis never keeps quorum at up weight 0.
	out = Evaluate(Spec{Hysteresis: 5}, State{Known: true, QuorumUp: true}, members([]int{1}, []bool{false}))
	if out.QuorumUp || out.Events[0].Kind != "quorum-lost" {
		t.Errorf("up weight 0 with hysteresis: %+v", out)
	}
}
