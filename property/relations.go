package property

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// The relations below compare kernel outputs bit for bit. They run on
// dyadic cases, where every sum is exact, so any correct summation order
// gives the same bits and any difference is a bug.

// rng returns the random source for a relation's own choices, fixed by the
// case so that they survive shrinking.
func (c Case) rng() *rand.Rand { return rand.New(rand.NewPCG(c.aux, uint64(len(c.IDs)))) }

// with returns c with gradOut g and, if dst is not nil, that dst.
func (c Case) with(g, dst []float32) Case {
	c.GradOut = g
	if dst != nil {
		c.Dst = dst
	}
	return c
}

// compare runs k on a and on b and requires the same bits; how says what b
// is relative to a.
func compare(k embgrad.Kernel, a, b Case, how string) error {
	want, err := run(k.Backward, a)
	if err != nil {
		return err
	}
	got, err := run(k.Backward, b)
	if err != nil {
		return err
	}
	if err := suite.SameBits(got, want, a.D, "as on the case itself"); err != nil {
		return fmt.Errorf("%s changed the result: %w", how, err)
	}
	return nil
}

// permutation: the order of the (id, gradient row) pairs does not matter.
func permutation(k embgrad.Kernel, c Case) error {
	perm := c.rng().Perm(len(c.IDs))
	p := c.with(make([]float32, len(c.GradOut)), nil)
	p.IDs = make([]int32, len(c.IDs))
	for i, j := range perm {
		p.IDs[i] = c.IDs[j]
		copy(p.GradOut[i*c.D:(i+1)*c.D], c.GradOut[j*c.D:(j+1)*c.D])
	}
	return compare(k, c, p, fmt.Sprintf("permuting the positions (ids=%s)", ints(p.IDs)))
}

// batchSplit: adding the batch A∪B at once equals adding A, then B, into
// the result. Scaling counts over the whole batch, so it is off here.
func batchSplit(k embgrad.Kernel, c Case) error {
	c.Opt.ScaleGradByFreq = false
	rng := c.rng()
	inA := make([]bool, len(c.IDs))
	for i := range inA {
		inA[i] = rng.IntN(2) == 0
	}
	a := c.keepPositions(func(i int) bool { return inA[i] })
	b := c.keepPositions(func(i int) bool { return !inA[i] })
	whole, err := run(k.Backward, c)
	if err != nil {
		return err
	}
	afterA, err := run(k.Backward, a)
	if err != nil {
		return err
	}
	b.Dst = afterA
	afterB, err := run(k.Backward, b)
	if err != nil {
		return err
	}
	if err := suite.SameBits(afterB, whole, c.D, "adding the whole batch at once"); err != nil {
		return fmt.Errorf("adding A (ids=%s) then B (ids=%s): %w", ints(a.IDs), ints(b.IDs), err)
	}
	return nil
}

// linearity: backward(dst, a·G + b·H) = dst + a·backward(0, G) + b·backward(0, H)
// for small integers a, b.
func linearity(k embgrad.Kernel, c Case) error {
	rng := c.rng()
	a, b := float32(rng.IntN(7)-3), float32(rng.IntN(7)-3)
	H := make([]float32, len(c.GradOut))
	combo := make([]float32, len(c.GradOut))
	for i, g := range c.GradOut {
		H[i] = dyadicValue(rng)
		combo[i] = a*g + b*H[i]
	}
	zero := make([]float32, len(c.Dst))
	x, err := run(k.Backward, c.with(c.GradOut, zero))
	if err != nil {
		return err
	}
	y, err := run(k.Backward, c.with(H, zero))
	if err != nil {
		return err
	}
	got, err := run(k.Backward, c.with(combo, nil))
	if err != nil {
		return err
	}
	want := make([]float32, len(c.Dst))
	for i := range want {
		want[i] = c.Dst[i] + a*x[i] + b*y[i]
	}
	if err := suite.SameBits(got, want, c.D, fmt.Sprintf("= dst + %v·backward(0, G) + %v·backward(0, H)", a, b)); err != nil {
		return fmt.Errorf("backward(dst, %v·G + %v·H) with H=%s: %w", a, b, rows(H, c.D), err)
	}
	return nil
}

// relabel: renaming the vocabulary (permuting the rows of dst, the ids and
// the padding index alike) permutes the result the same way.
func relabel(k embgrad.Kernel, c Case) error {
	perm := c.rng().Perm(c.V)
	r := c.with(c.GradOut, make([]float32, len(c.Dst)))
	r.IDs = make([]int32, len(c.IDs))
	for i, id := range c.IDs {
		r.IDs[i] = int32(perm[id])
	}
	if c.Opt.HasPadding {
		r.Opt.PaddingIdx = int32(perm[c.Opt.PaddingIdx])
	}
	for v, pv := range perm {
		copy(r.Dst[pv*c.D:(pv+1)*c.D], c.Dst[v*c.D:(v+1)*c.D])
	}
	out, err := run(k.Backward, c)
	if err != nil {
		return err
	}
	got, err := run(k.Backward, r)
	if err != nil {
		return err
	}
	want := make([]float32, len(out))
	for v, pv := range perm {
		copy(want[pv*c.D:(pv+1)*c.D], out[v*c.D:(v+1)*c.D])
	}
	if err := suite.SameBits(got, want, c.D, "(the original result, rows renamed)"); err != nil {
		return fmt.Errorf("renaming row v to perm[v], perm=%s: %w", ints(perm), err)
	}
	return nil
}

// scalePow2: multiplying dst and gradOut by 2^e multiplies the result by
// 2^e exactly (no overflow or underflow at these magnitudes).
func scalePow2(k embgrad.Kernel, c Case) error {
	e := c.rng().IntN(16) - 8
	if e >= 0 {
		e++ // e in [-8, 8] \ {0}
	}
	f := float32(math.Ldexp(1, e))
	s := c.with(scaled(c.GradOut, f), scaled(c.Dst, f))
	out, err := run(k.Backward, c)
	if err != nil {
		return err
	}
	got, err := run(k.Backward, s)
	if err != nil {
		return err
	}
	if err := suite.SameBits(got, scaled(out, f), c.D, fmt.Sprintf("(2^%d × the result on the case)", e)); err != nil {
		return fmt.Errorf("scaling dst and gradOut by 2^%d: %w", e, err)
	}
	return nil
}

func scaled(x []float32, f float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = f * v
	}
	return y
}

// duplicate: running the batch twice over (ids ++ ids) leaves a scaled
// result unchanged, since every count doubles, and doubles an unscaled one.
func duplicate(k embgrad.Kernel, c Case) error {
	d := c.with(append(append([]float32(nil), c.GradOut...), c.GradOut...), nil)
	d.IDs = append(append([]int32(nil), c.IDs...), c.IDs...)
	if c.Opt.ScaleGradByFreq {
		return compare(k, c, d, "duplicating the batch with scaling on")
	}
	return compare(k, c.with(scaled(c.GradOut, 2), nil), d, "duplicating the batch (compared with doubling gradOut)")
}

// zeroGrad: a zero gradient changes nothing. (Dyadic dst holds no −0, which
// +0 would turn into +0.)
func zeroGrad(k embgrad.Kernel, c Case) error {
	got, err := run(k.Backward, c.with(make([]float32, len(c.GradOut)), nil))
	if err != nil {
		return err
	}
	if err := suite.SameBits(got, c.Dst, c.D, "(dst before the call)"); err != nil {
		return fmt.Errorf("zero gradOut changed dst: %w", err)
	}
	return nil
}

// untouched: rows that no contributing position names — never named, or
// the padding row — stay bit for bit as they were.
func untouched(k embgrad.Kernel, c Case) error {
	got, err := run(k.Backward, c)
	if err != nil {
		return err
	}
	counts := reference.Counts(c.V, c.IDs, c.Opt)
	for v, n := range counts {
		if n > 0 {
			continue
		}
		what := "untouched"
		if c.Opt.HasPadding && int(c.Opt.PaddingIdx) == v {
			what = "padding"
		}
		row := v * c.D
		if j := suite.FirstDiff(got[row:row+c.D], c.Dst[row:row+c.D]); j >= 0 {
			g, w := got[row+j], c.Dst[row+j]
			why := ""
			if negZero(w) && g == 0 && !negZero(g) {
				why = ": -0 became +0: a zero was added into a row no id names (a kernel must leave such rows alone, not add a fresh zero gradient into them)"
			}
			return fmt.Errorf("%s row %d changed: row %d col %d: got %v (bits %#08x), want %v (bits %#08x) unchanged%s",
				what, v, v, j, g, math.Float32bits(g), w, math.Float32bits(w), why)
		}
	}
	return nil
}

// only reports violations of one kind (a stray write, a changed input) in
// Backward and in Scratch mode, so that each has its own line in a report.
func only(kind string, k embgrad.Kernel, c Case) error {
	for _, f := range []struct {
		name string
		f    backward
	}{{"Backward", k.Backward}, {"Scratch", scratch(k)}} {
		if _, err := call(f.f, c); suite.IsViolation(err, kind) {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// deterministic: the same call gives the same bits every time.
func deterministic(k embgrad.Kernel, c Case) error {
	first, err := run(k.Backward, c)
	if err != nil {
		return err
	}
	for n := 2; n <= 3; n++ {
		got, err := run(k.Backward, c)
		if err != nil {
			return err
		}
		if err := suite.SameBits(got, first, c.D, "(the first call)"); err != nil {
			return fmt.Errorf("call %d differs: %w", n, err)
		}
	}
	return nil
}

// workerCounts are the worker counts a Parallel kernel must agree across.
var workerCounts = []int{1, 2, 3, 4, 7}

// workers: a Parallel kernel gives the same bits for every worker count.
func workers(p embgrad.Parallel, c Case) error {
	first, err := run(p.WithWorkers(workerCounts[0]).Backward, c)
	if err != nil {
		return err
	}
	for _, n := range workerCounts[1:] {
		got, err := run(p.WithWorkers(n).Backward, c)
		if err != nil {
			return fmt.Errorf("WithWorkers(%d): %w", n, err)
		}
		if err := suite.SameBits(got, first, c.D, fmt.Sprintf("(with %d worker)", workerCounts[0])); err != nil {
			return fmt.Errorf("WithWorkers(%d): %w", n, err)
		}
	}
	return nil
}

// scratchGarbage: embgrad.Scratch overwrites dst, whatever it held (NaN,
// ±Inf, any bits), with the gradient computed from zero.
func scratchGarbage(k embgrad.Kernel, c Case) error {
	zero := make([]float32, len(c.Dst))
	want, err := reference.Oracle(zero, c.V, c.D, c.IDs, c.GradOut, c.Opt)
	if err != nil {
		return err
	}
	rng := c.rng()
	garbage := make([]float32, len(c.Dst))
	for i := range garbage {
		garbage[i] = math.Float32frombits(rng.Uint32())
	}
	got, err := run(scratch(k), c.with(c.GradOut, garbage))
	if err != nil {
		return err
	}
	if err := want.Check(got); err != nil {
		return fmt.Errorf("Scratch into a dst of garbage: %w", err)
	}
	return nil
}

// zeroWidth is c with D = 0 and a vocabulary up to 2^10 times larger (at
// most 2^20), ids spread over it: dst and gradOut are empty, so a kernel
// that sizes its work by V does work no output needs — valid input that
// must succeed and change nothing.
func zeroWidth(c Case) Case {
	shift := c.rng().IntN(11)
	for c.V<<shift > 1<<20 {
		shift--
	}
	z := c.clone()
	z.D, z.V, z.Dst, z.GradOut = 0, c.V<<shift, nil, nil
	for i, id := range c.IDs {
		z.IDs[i] = id << shift
	}
	if c.Opt.HasPadding {
		z.Opt.PaddingIdx = c.Opt.PaddingIdx << shift
	}
	return z
}
