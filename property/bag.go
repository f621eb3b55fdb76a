package property

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// BagChecks returns the embedding-bag properties of k, each checked by
// gopter on random cases on dyadic data (suite.Dyadic gradOut and E,
// weights k/16), where every float32 product and sum is exact in any
// order, so each relation holds bitwise. Every call runs through the
// guarded call (guard bands on dst and dw, read-only copies of every
// input), from a zero dst.
//
//   - bag/plain-form: sum mode (weighted or not, unscaled) equals the plain
//     form's float64 backward (reference.Backward64) of each position's
//     w_i·gradOut[bag(i)], rounded; and dw equals ⟨gradOut[bag(i)], E[id]⟩;
//   - bag/permutation: permuting the ids (with their weights) within each
//     bag changes nothing, dw permuted alike (sum; mean with every bag's
//     size a power of two, so 1/n is exact);
//   - bag/split: splitting bags into two, the gradOut row copied to both,
//     changes nothing (sum, weighted or not);
//   - bag/unit-weights: weights all 1 ≡ the unweighted sum;
//   - bag/mean-is-scaled-sum: mean ≡ sum of gradOut[b]·(1/n_b) (bag sizes
//     powers of two);
//   - bag/empty-bags: inserting empty bags, and bags of padding ids only,
//     with any gradOut rows, changes nothing (every mode; max's indices -1
//     there);
//   - bag/scale-2k: gradOut·2ᵏ gives dst·2ᵏ and dw·2ᵏ (every mode, scaled
//     by frequency too);
//   - bag/invalid-offsets: a corrupted offset (offsets[0] ≠ 0, decreasing,
//     past len(ids), include_last_offset short) is an error wrapping
//     embgrad.ErrInvalidInput naming it, dst and dw unchanged.
func BagChecks(k embgrad.BagKernel) []NamedCheck {
	return []NamedCheck{
		bagProp("bag/plain-form", k, bagPlainForm),
		bagProp("bag/permutation", k, bagPermutation),
		bagProp("bag/split", k, bagSplit),
		bagProp("bag/unit-weights", k, bagUnitWeights),
		bagProp("bag/mean-is-scaled-sum", k, bagMeanIsScaledSum),
		bagProp("bag/empty-bags", k, bagEmptyBags),
		bagProp("bag/scale-2k", k, bagScale2k),
		bagProp("bag/invalid-offsets", k, bagInvalidOffsets),
	}
}

// TestBag runs BagChecks(k) as subtests of t.
func TestBag(t *testing.T, k embgrad.BagKernel) {
	t.Helper()
	suite.Test(t, BagChecks(k))
}

// CheckBag runs BagChecks(k) with cfg and returns every failure joined.
func CheckBag(k embgrad.BagKernel, cfg Config) error { return suite.Join(RunBag(k, cfg)) }

// RunBag runs BagChecks(k) with cfg, one result per check.
func RunBag(k embgrad.BagKernel, cfg Config) []Result { return suite.Run(BagChecks(k), cfg) }

func bagProp(name string, k embgrad.BagKernel, f func(embgrad.BagKernel, bagCase) error) NamedCheck {
	return NamedCheck{Name: name, Run: func(cfg Config) error {
		n := tiedCasesFull
		if cfg.Short {
			n = tiedCasesShort
		}
		return suite.ForAll(cfg, name, k.Name(), n, bagGen(), func(c bagCase) error { return f(k, c) })
	}}
}

// bagCase is one bag call, made from its shape and seed so that gopter
// shrinks the shape and the data follows. Which relation uses which
// options is the relation's business: it rebuilds the case with its spec.
type bagCase struct {
	V, D, B int
	Seed    uint64
}

func bagGen() gopter.Gen {
	return gopter.DeriveGen(
		func(V, D, B int, seed uint64) bagCase { return bagCase{V, D, B, seed} },
		func(c bagCase) (int, int, int, uint64) { return c.V, c.D, c.B, c.Seed },
		gen.IntRange(1, 60), gen.IntRange(1, 20), gen.IntRange(0, 12), gen.UInt64(),
	).SuchThat(func(c bagCase) bool { return c.V >= 1 && c.D >= 1 && c.B >= 0 })
}

func (c bagCase) String() string { return c.Size() }

func (c bagCase) Size() string { return fmt.Sprintf("V=%d D=%d B=%d seed=%#x", c.V, c.D, c.B, c.Seed) }

// rng is the case's data stream.
func (c bagCase) rng() *rand.Rand { return rand.New(rand.NewPCG(c.Seed, 0xba6)) }

// build draws the case's arguments for a mode and options: dyadic data,
// bags of up to 8 ids, duplicates half the time.
func (c bagCase) build(rng *rand.Rand, mode embgrad.BagMode, pad, scale, weights, pow2 bool) *suite.BagCase {
	s := suite.BagSpec{V: c.V, D: c.D, B: c.B, MaxL: 8, Mode: mode, Pad: pad, Scale: scale, Weights: weights,
		Pow2: pow2, Last: rng.IntN(2) == 0, Empty: !pow2 && rng.IntN(2) == 0, Kind: suite.Dyadic}
	if rng.IntN(2) == 0 {
		s.Rows = 1 + rng.IntN(min(c.V, 4))
	}
	return suite.NewBagCase(rng, s)
}

// bagRun calls k on a through the guarded call from a zero dst (and a dw
// prefilled with junk, which must be overwritten) and returns the outputs.
func bagRun(k embgrad.BagKernel, a embgrad.BagArgs) ([]float32, []float32, error) {
	var dw []float32
	if a.Weights != nil {
		dw = make([]float32, len(a.IDs))
		for i := range dw {
			dw[i] = 0x1p-3 * float32(i+1)
		}
	}
	dst, dw, err := suite.Bag(k.BagBackward, make([]float32, a.V*a.D), dw, a)
	return dst, dw, suite.Accepted(err)
}

// bagSame compares two runs' outputs bitwise.
func bagSame(what string, d1, w1, d2, w2 []float32, D int) error {
	if e := suite.FirstDiff(d1, d2); e >= 0 {
		return fmt.Errorf("%s: dst[%d,%d] = %v, want %v", what, e/D, e%D, d2[e], d1[e])
	}
	if e := suite.FirstDiff(w1, w2); e >= 0 {
		return fmt.Errorf("%s: dw[%d] = %v, want %v", what, e, w2[e], w1[e])
	}
	return nil
}

func bagPlainForm(k embgrad.BagKernel, c bagCase) error {
	rng := c.rng()
	bc := c.build(rng, embgrad.BagSum, rng.IntN(2) == 0, false, rng.IntN(2) == 0, false)
	a := bc.A
	dst, dw, err := bagRun(k, a)
	if err != nil {
		return err
	}
	_, bag := reference.BagFactors(a)
	G := make([]float64, len(a.IDs)*a.D)
	for i := range a.IDs {
		w := 1.0
		if a.Weights != nil {
			w = float64(a.Weights[i])
		}
		for j := range a.D {
			G[i*a.D+j] = w * float64(a.GradOut[bag[i]*a.D+j])
		}
	}
	want := make([]float64, a.V*a.D)
	reference.Backward64(want, a.V, a.D, a.IDs, G, a.Opt.Options)
	for e, x := range want {
		if dst[e] != float32(x) {
			return fmt.Errorf("%v: dst[%d,%d] = %v, want exactly %v (the plain backward of the expanded gradOut)", bc, e/a.D, e%a.D, dst[e], float32(x))
		}
	}
	for i, id := range a.IDs {
		if a.Weights == nil {
			break
		}
		var dot float64
		if !a.Opt.Skips(id) {
			for j := range a.D {
				dot += float64(a.GradOut[bag[i]*a.D+j]) * float64(a.E[int(id)*a.D+j])
			}
		}
		if dw[i] != float32(dot) {
			return fmt.Errorf("%v: dw[%d] = %v, want exactly %v", bc, i, dw[i], float32(dot))
		}
	}
	return nil
}

func bagPermutation(k embgrad.BagKernel, c bagCase) error {
	rng := c.rng()
	mean := rng.IntN(3) == 0
	mode := embgrad.BagSum
	if mean {
		mode = embgrad.BagMean
	}
	bc := c.build(rng, mode, !mean && rng.IntN(2) == 0, false, !mean && rng.IntN(2) == 0, mean)
	a := bc.A
	d1, w1, err := bagRun(k, a)
	if err != nil {
		return err
	}
	p := a
	p.IDs = slices.Clone(a.IDs)
	perm := make([]int, len(a.IDs)) // new position → old
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		for i, q := range rng.Perm(hi - lo) {
			perm[lo+i] = lo + q
		}
	}
	for i, q := range perm {
		p.IDs[i] = a.IDs[q]
	}
	if a.Weights != nil {
		p.Weights = make([]float32, len(a.Weights))
		for i, q := range perm {
			p.Weights[i] = a.Weights[q]
		}
	}
	d2, w2, err := bagRun(k, p)
	if err != nil {
		return err
	}
	var wp []float32
	if a.Weights != nil {
		wp = make([]float32, len(w1))
		for i, q := range perm {
			wp[i] = w1[q]
		}
	}
	return bagSame(fmt.Sprintf("%v permuted within bags", bc), d1, wp, d2, w2, a.D)
}

func bagSplit(k embgrad.BagKernel, c bagCase) error {
	rng := c.rng()
	bc := c.build(rng, embgrad.BagSum, rng.IntN(2) == 0, false, rng.IntN(2) == 0, false)
	a := bc.A
	d1, w1, err := bagRun(k, a)
	if err != nil {
		return err
	}
	s := a
	s.Offsets, s.GradOut = nil, nil
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		g := a.GradOut[b*a.D : (b+1)*a.D]
		s.Offsets = append(s.Offsets, int32(lo))
		s.GradOut = append(s.GradOut, g...)
		if hi-lo >= 2 {
			s.Offsets = append(s.Offsets, int32(lo+1+rng.IntN(hi-lo-1)))
			s.GradOut = append(s.GradOut, g...)
		}
	}
	if s.Opt.IncludeLastOffset {
		s.Offsets = append(s.Offsets, int32(len(a.IDs)))
	}
	if s.GradOut == nil {
		s.GradOut = []float32{}
	}
	d2, w2, err := bagRun(k, s)
	if err != nil {
		return err
	}
	return bagSame(fmt.Sprintf("%v with bags split (offsets %v)", bc, s.Offsets), d1, w1, d2, w2, a.D)
}

func bagUnitWeights(k embgrad.BagKernel, c bagCase) error {
	rng := c.rng()
	bc := c.build(rng, embgrad.BagSum, rng.IntN(2) == 0, rng.IntN(2) == 0, false, false)
	a := bc.A
	d1, _, err := bagRun(k, a)
	if err != nil {
		return err
	}
	w := a
	w.Weights = make([]float32, len(a.IDs))
	for i := range w.Weights {
		w.Weights[i] = 1
	}
	d2, _, err := bagRun(k, w)
	if err != nil {
		return err
	}
	return bagSame(fmt.Sprintf("%v with weights all 1", bc), d1, nil, d2, nil, a.D)
}

func bagMeanIsScaledSum(k embgrad.BagKernel, c bagCase) error {
	rng := c.rng()
	bc := c.build(rng, embgrad.BagMean, false, false, false, true)
	a := bc.A
	d1, _, err := bagRun(k, a)
	if err != nil {
		return err
	}
	s := a
	s.Opt.Mode = embgrad.BagSum
	s.GradOut = slices.Clone(a.GradOut)
	for b := range a.Bags() {
		lo, hi := a.Bag(b)
		for j := range a.D {
			s.GradOut[b*a.D+j] *= 1 / float32(hi-lo) // a power of two: exact
		}
	}
	d2, _, err := bagRun(k, s)
	if err != nil {
		return err
	}
	return bagSame(fmt.Sprintf("%v as a sum of gradOut/n", bc), d1, nil, d2, nil, a.D)
}

func bagEmptyBags(k embgrad.BagKernel, c bagCase) error {
	rng := c.rng()
	mode := embgrad.BagMode(rng.IntN(3))
	pad := rng.IntN(2) == 0
	bc := c.build(rng, mode, pad, mode != embgrad.BagMax && rng.IntN(2) == 0, mode == embgrad.BagSum && rng.IntN(2) == 0, false)
	a := bc.A
	d1, w1, err := bagRun(k, a)
	if err != nil {
		return err
	}
	// Rebuild with extra bags of no ids, or of padding ids only, inserted
	// before random bags (and at the end).
	e := a
	e.IDs, e.Offsets, e.GradOut, e.Weights, e.MaxIndices = []int32{}, nil, []float32{}, nil, nil
	if a.Weights != nil {
		e.Weights = []float32{}
	}
	var keep []int // e's position of each of a's ids
	extra := func() {
		e.Offsets = append(e.Offsets, int32(len(e.IDs)))
		e.GradOut = append(e.GradOut, suite.Fill(rng, a.D, suite.Dyadic)...)
		n := 0
		if a.Opt.HasPadding {
			n = rng.IntN(3)
		}
		for range n {
			e.IDs = append(e.IDs, a.Opt.PaddingIdx)
			if e.Weights != nil {
				e.Weights = append(e.Weights, 1)
			}
		}
		if mode == embgrad.BagMax {
			for range a.D {
				e.MaxIndices = append(e.MaxIndices, -1)
			}
		}
	}
	for b := range a.Bags() + 1 {
		for rng.IntN(3) == 0 {
			extra()
		}
		if b == a.Bags() {
			break
		}
		lo, hi := a.Bag(b)
		e.Offsets = append(e.Offsets, int32(len(e.IDs)))
		e.GradOut = append(e.GradOut, a.GradOut[b*a.D:(b+1)*a.D]...)
		for i := lo; i < hi; i++ {
			keep = append(keep, len(e.IDs))
			e.IDs = append(e.IDs, a.IDs[i])
			if e.Weights != nil {
				e.Weights = append(e.Weights, a.Weights[i])
			}
		}
		if mode == embgrad.BagMax {
			e.MaxIndices = append(e.MaxIndices, a.MaxIndices[b*a.D:(b+1)*a.D]...)
		}
	}
	if e.Opt.IncludeLastOffset || len(e.Offsets) == 0 {
		e.Opt.IncludeLastOffset = true
		e.Offsets = append(e.Offsets, int32(len(e.IDs)))
	}
	d2, w2, err := bagRun(k, e)
	if err != nil {
		return err
	}
	var wk []float32
	if a.Weights != nil {
		wk = make([]float32, len(keep))
		for i, p := range keep {
			wk[i] = w2[p]
		}
	}
	return bagSame(fmt.Sprintf("%v with empty or padding-only bags inserted (offsets %v)", bc, e.Offsets), d1, w1, d2, wk, a.D)
}

func bagScale2k(k embgrad.BagKernel, c bagCase) error {
	rng := c.rng()
	mode := embgrad.BagMode(rng.IntN(3))
	bc := c.build(rng, mode, rng.IntN(2) == 0, mode != embgrad.BagMax && rng.IntN(2) == 0, mode == embgrad.BagSum && rng.IntN(2) == 0, false)
	a := bc.A
	d1, w1, err := bagRun(k, a)
	if err != nil {
		return err
	}
	p := 1 + rng.IntN(8)
	f := float32(math.Ldexp(1, p))
	s := a
	s.GradOut = slices.Clone(a.GradOut)
	for i := range s.GradOut {
		s.GradOut[i] *= f
	}
	d2, w2, err := bagRun(k, s)
	if err != nil {
		return err
	}
	for i := range d1 {
		d1[i] *= f
	}
	for i := range w1 {
		w1[i] *= f
	}
	return bagSame(fmt.Sprintf("%v with gradOut·2^%d", bc, p), d1, w1, d2, w2, a.D)
}

func bagInvalidOffsets(k embgrad.BagKernel, c bagCase) error {
	rng := c.rng()
	mode := embgrad.BagMode(rng.IntN(3))
	bc := c.build(rng, mode, false, false, mode == embgrad.BagSum && rng.IntN(2) == 0, false)
	a := bc.A
	if len(a.IDs) == 0 || len(a.Offsets) < 2 {
		return nil // nothing to corrupt without making another valid case
	}
	a.Offsets = slices.Clone(a.Offsets)
	var why string
	switch p := 1 + rng.IntN(len(a.Offsets)-1); rng.IntN(4) {
	case 0:
		a.Offsets[0] = 1 + int32(rng.IntN(len(a.IDs)))
		why = "offsets[0]"
	case 1:
		a.Offsets[p] = int32(len(a.IDs) + 1 + rng.IntN(3))
		why = fmt.Sprintf("offsets[%d]", p)
	case 2:
		// Decreasing: the first later offset below its predecessor.
		a.Offsets[p] = a.Offsets[p-1] - 1 - int32(rng.IntN(2))
		why = fmt.Sprintf("offsets[%d]", p)
		if a.Offsets[p] < 0 {
			why = "" // negative, also below its predecessor
		}
	default:
		// include_last_offset with a last offset short of len(ids) (but not
		// below its predecessor, so that only the last one is wrong).
		if !a.Opt.IncludeLastOffset {
			a.Opt.IncludeLastOffset = true
			a.Offsets = append(a.Offsets, 0)
		}
		n := len(a.Offsets)
		prev := int(a.Offsets[n-2])
		if prev >= len(a.IDs) {
			return nil
		}
		a.Offsets[n-1] = int32(prev + rng.IntN(len(a.IDs)-prev))
		why = "include_last_offset"
	}
	dst0 := suite.Fill(rng, a.V*a.D, suite.Dyadic)
	var dw0 []float32
	if a.Weights != nil {
		dw0 = suite.Fill(rng, len(a.IDs), suite.Dyadic)
	}
	dst, dw, err := suite.Bag(k.BagBackward, dst0, dw0, a)
	var v *suite.Violation
	switch {
	case errors.As(err, &v):
		return err
	case err == nil:
		return fmt.Errorf("%v: accepted offsets %v", bc, a.Offsets)
	case !errors.Is(err, embgrad.ErrInvalidInput):
		return fmt.Errorf("%v: error %q does not wrap ErrInvalidInput", bc, err)
	case why != "" && !strings.Contains(err.Error(), why):
		return fmt.Errorf("%v: offsets %v: error %q does not name %s", bc, a.Offsets, err, why)
	}
	if e := suite.FirstDiff(dst, dst0); e >= 0 {
		return fmt.Errorf("%v: rejected offsets %v but changed dst[%d]", bc, a.Offsets, e)
	}
	if e := suite.FirstDiff(dw, dw0); e >= 0 {
		return fmt.Errorf("%v: rejected offsets %v but changed dw[%d]", bc, a.Offsets, e)
	}
	return nil
}
