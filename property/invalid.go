package property

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/embgrad/embgrad"
)

// invalidKinds are the ways an input can be invalid. Each corrupts a valid
// case and says how; the kernel must reject the result.
var invalidKinds = []struct {
	name    string
	corrupt func(c Case, rng *rand.Rand) (Case, string)
}{
	{"id-negative", func(c Case, rng *rand.Rand) (Case, string) {
		return badID(c, rng, []int32{-1, -1 - rng.Int32N(1000), -int32(c.V), math.MinInt32})
	}},
	{"id-too-large", func(c Case, rng *rand.Rand) (Case, string) {
		return badID(c, rng, []int32{int32(c.V), int32(c.V) + rng.Int32N(1000), math.MaxInt32})
	}},
	{"dst-length", func(c Case, rng *rand.Rand) (Case, string) {
		c.Dst = resize(c.Dst, rng, c.D)
		return c, fmt.Sprintf("len(dst) = %d, V*D = %d", len(c.Dst), c.V*c.D)
	}},
	{"gradout-length", func(c Case, rng *rand.Rand) (Case, string) {
		c.GradOut = resize(c.GradOut, rng, c.D)
		return c, fmt.Sprintf("len(gradOut) = %d, len(ids)*D = %d", len(c.GradOut), len(c.IDs)*c.D)
	}},
	{"padding", func(c Case, rng *rand.Rand) (Case, string) {
		idx := []int32{-1, int32(c.V), int32(c.V) + rng.Int32N(1000), math.MinInt32}[rng.IntN(4)]
		c.Opt = c.Opt.WithPadding(idx)
		return c, fmt.Sprintf("padding index %d", idx)
	}},
	{"negative-V", func(c Case, rng *rand.Rand) (Case, string) {
		c.V = -c.V
		return c, fmt.Sprintf("V = %d", c.V)
	}},
	{"negative-D", func(c Case, rng *rand.Rand) (Case, string) {
		c.D = -c.D
		return c, fmt.Sprintf("D = %d", c.D)
	}},
	{"huge-V-zero-D", func(c Case, rng *rand.Rand) (Case, string) {
		// dst and gradOut are empty whatever V is: nothing bounds a V-sized
		// work table but validation.
		c.D, c.Dst, c.GradOut = 0, nil, nil
		c.V = []int{embgrad.MaxV + 1, embgrad.MaxV + 1 + rng.IntN(1<<20), 1 << 34, 1 << 47, math.MaxInt}[rng.IntN(5)]
		return c, fmt.Sprintf("D = 0, V = %d > MaxV", c.V)
	}},
	{"dst-overlaps-gradout", func(c Case, rng *rand.Rand) (Case, string) {
		c = withPosition(c.clone())
		if c.D == 0 || len(c.Dst) == 0 {
			c.D, c.V, c.Dst, c.GradOut = 1, max(c.V, 1), make([]float32, max(c.V, 1)), make([]float32, len(c.IDs))
		}
		n := 1 + rng.IntN(min(len(c.Dst), len(c.GradOut)))
		copy(c.GradOut[:n], c.Dst[len(c.Dst)-n:]) // the shared elements agree
		c.overlap.with, c.overlap.n = "gradOut", n
		return c, fmt.Sprintf("gradOut's first %d elements are dst's last", n)
	}},
	{"dst-overlaps-ids", func(c Case, rng *rand.Rand) (Case, string) {
		c = withPosition(c.clone())
		if c.D == 0 || len(c.Dst) == 0 {
			c.D, c.V, c.Dst, c.GradOut = 1, max(c.V, 1), make([]float32, max(c.V, 1)), make([]float32, len(c.IDs))
		}
		n := 1 + rng.IntN(min(len(c.Dst), len(c.IDs)))
		c = c.keepPositions(func(i int) bool { return i < n })
		for i, id := range c.IDs { // dst's tail holds the ids' bits
			c.Dst[len(c.Dst)-n+i] = math.Float32frombits(uint32(id))
		}
		c.overlap.with = "ids"
		return c, fmt.Sprintf("ids (%d of them) lie in dst's last elements", n)
	}},
	{"VD-overflow", func(c Case, rng *rand.Rand) (Case, string) {
		c.D = max(c.D, 2) // V·1 cannot overflow
		c.V = math.MaxInt/c.D + 1 + rng.IntN(1000)
		return c, fmt.Sprintf("V*D = %d*%d overflows int", c.V, c.D)
	}},
}

// aliasing are the invalid kinds that lay buffers over one another, which
// a kernel behind a process boundary never sees (suite.Needs).
var aliasing = map[string]bool{"dst-overlaps-gradout": true, "dst-overlaps-ids": true}

// badID puts one of the candidate ids at a random position (adding a
// position to an empty batch), so that a kernel that writes before it
// validates has already written.
func badID(c Case, rng *rand.Rand, candidates []int32) (Case, string) {
	c = withPosition(c.clone())
	i := rng.IntN(len(c.IDs))
	c.IDs[i] = candidates[rng.IntN(len(candidates))]
	return c, fmt.Sprintf("ids[%d] = %d", i, c.IDs[i])
}

// withPosition returns c with a position added (id 0, gradient 1) if it
// has none.
func withPosition(c Case) Case {
	if len(c.IDs) == 0 {
		c.IDs = []int32{0}
		c.GradOut = make([]float32, c.D)
		for i := range c.GradOut {
			c.GradOut[i] = 1
		}
	}
	return c
}

// resize returns x made 1 to D elements shorter or longer.
func resize(x []float32, rng *rand.Rand, D int) []float32 {
	n := 1 + rng.IntN(D)
	if len(x) >= n && rng.IntN(2) == 0 {
		return x[:len(x)-n]
	}
	return append(x[:len(x):len(x)], make([]float32, n)...)
}

// rejects corrupts c and requires k to reject it: an error wrapping
// embgrad.ErrInvalidInput, dst unchanged, no panic, in Backward and, for a
// ScratchKernel, BackwardScratch.
func rejects(k embgrad.Kernel, c Case, corrupt func(Case, *rand.Rand) (Case, string)) error {
	bad, how := corrupt(c, c.rng())
	if err := verify(k.Backward, bad); err != nil {
		return fmt.Errorf("Backward with %s: %w", how, err)
	}
	if s, ok := k.(embgrad.ScratchKernel); ok {
		if err := verify(s.BackwardScratch, bad); err != nil {
			return fmt.Errorf("BackwardScratch with %s: %w", how, err)
		}
	}
	return nil
}
