package peak

import "testing"

// TestLoopsSum checks that each loop runs its turns: every lane of every
// chain gains a·b per turn, so one lane of the sum over chains is
// turns·chains·a·b (exact here: powers of two).
func TestLoopsSum(t *testing.T) {
	for _, l := range Loops() {
		chains := map[string]int{"avx512": 24, "avx2": 12}[l.Name]
		lanes := map[string]int{"avx512": 16, "avx2": 8}[l.Name]
		if l.Flops != 2*chains*lanes {
			t.Errorf("%s: %d flops a turn, want %d", l.Name, l.Flops, 2*chains*lanes)
		}
		t.Logf("%s: %d flops a turn", l.Name, l.Flops)
		const turns = 1000
		// Run multiplies 1e-3 by 1e-3; check the count with the product
		// of the float32 values it uses.
		p := float32(1e-3) * float32(1e-3)
		got := l.Run(turns)
		want := float32(turns*chains) * p
		if d := got/want - 1; d > 1e-3 || d < -1e-3 {
			t.Errorf("%s: %d turns summed to %v, want about %v", l.Name, turns, got, want)
		}
	}
}
