package gradcheck

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// BagChecks returns the embedding-bag suite for k:
//
//   - bag/oracle: over sum, mean and max, every width in suite.Widths,
//     padding, scaling, per-sample weights, include_last_offset, empty
//     and all-padding bags, duplicates and a zero or random dst: dst and
//     dw within reference.BagOracle's bounds, elements with no term
//     bit-for-bit unchanged; from scratch (embgrad.BagScratch) too; guard
//     bands and read-only inputs through the guarded call;
//   - bag/max-ties: rows tied in a column: the forward (the kernel's own
//     BagForward when it implements BagForwarder, else
//     embgrad.BagForward) names the first, and the backward sends the
//     whole gradient to it — exactly, the other tied rows unchanged;
//   - bag/invalid-input: bad offsets, include_last_offset with a short last
//     offset, weights outside sum mode or of the wrong length, scaling in
//     max mode, bad max indices, bad ids and outputs sharing memory with an
//     input or each other: an error wrapping embgrad.ErrInvalidInput, dst
//     and dw unchanged;
//   - bag/workers: the same call twice, and for a embgrad.BagParallel
//     kernel with 1…4 workers, gives the same bits.
func BagChecks(k embgrad.BagKernel) []NamedCheck {
	bc := func(name string, f func(embgrad.BagKernel, Config, *report)) NamedCheck {
		return suite.NewCheck(name, k.Name(), func(cfg Config, r *report) { f(k, cfg, r) })
	}
	return []NamedCheck{
		bc("bag/oracle", bagOracle),
		bc("bag/max-ties", bagMaxTies),
		bc("bag/invalid-input", bagInvalid),
		bc("bag/workers", bagWorkers),
	}
}

// BagForwarder is implemented by bag kernels with their own max-mode
// forward (embgrad.BagForward's signature and contract); bag/max-ties
// checks it.
type BagForwarder interface {
	BagForward(out []float32, maxIndices []int32, E []float32, V, D int, ids, offsets []int32, weights []float32, opt embgrad.BagOptions) error
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

// bagRun calls k on c (from scratch when scratch) with dst starting as
// start, through the guarded call, and checks the outputs against the
// oracle. It returns them.
func bagRun(k embgrad.BagKernel, c *suite.BagCase, start []float32, scratch bool) ([]float32, []float32, error) {
	var dw0 []float32
	if c.A.Weights != nil {
		dw0 = make([]float32, len(c.A.IDs))
		for i := range dw0 {
			dw0[i] = float32(i%5) - 2.5 // overwritten, not added into
		}
	}
	base := start
	if scratch {
		base = make([]float32, len(start))
	}
	want, err := reference.BagOracle(base, dw0, c.A)
	if err != nil {
		return nil, nil, fmt.Errorf("gradcheck bug: the oracle rejected the case: %v", err)
	}
	f := suite.BagFunc(k.BagBackward)
	if scratch {
		f = func(dst, dw []float32, a embgrad.BagArgs) error { return embgrad.BagScratch(k, dst, dw, a) }
	}
	dst, dw, err := suite.Bag(f, start, dw0, c.A)
	if err != nil {
		return nil, nil, suite.Accepted(err)
	}
	if err := want.Check(dst, dw); err != nil {
		if scratch {
			return nil, nil, fmt.Errorf("from scratch: %w", err)
		}
		return nil, nil, err
	}
	return dst, dw, nil
}

func bagOracle(k embgrad.BagKernel, cfg Config, r *report) {
	widths := suite.Widths
	if cfg.Short {
		widths = []int{1, 3, 8, 17, 64, 129}
	}
	n := 0
	for _, mode := range []embgrad.BagMode{embgrad.BagSum, embgrad.BagMean, embgrad.BagMax} {
		for wi, D := range widths {
			for v := range 8 {
				rng := cfg.Stream("bag/oracle", n)
				n++
				s := suite.BagSpec{V: 1 + rng.IntN(40), D: D, B: rng.IntN(12), MaxL: 1 + rng.IntN(8), Mode: mode,
					Pad: v&1 != 0, Last: v&2 != 0, Empty: v&4 != 0, Kind: suite.Normal}
				if v%3 == 0 {
					s.Rows = 1 + rng.IntN(4)
				}
				if mode != embgrad.BagMax {
					s.Scale = (v+wi)%2 == 1
				}
				if mode == embgrad.BagSum {
					s.Weights = v%4 < 2
				}
				c := suite.NewBagCase(rng, s)
				start := make([]float32, s.V*s.D)
				if v%2 == 0 {
					start = suite.Fill(rng, len(start), suite.Normal)
				}
				r.Try(c, func() error {
					if _, _, err := bagRun(k, c, start, false); err != nil {
						return err
					}
					_, _, err := bagRun(k, c, start, true)
					return err
				})
			}
		}
	}
}

func bagMaxTies(k embgrad.BagKernel, cfg Config, r *report) {
	for i, D := range suite.Widths {
		rng := cfg.Stream("bag/max-ties", i)
		V := 3 + rng.IntN(10)
		c := suite.NewBagCase(rng, suite.BagSpec{V: V, D: D, B: 1 + rng.IntN(6), MaxL: 6, Mode: embgrad.BagMax, Kind: suite.Normal})
		a := &c.A
		// Every row the same: each column ties across all of a bag's ids.
		row := suite.Fill(rng, D, suite.Normal)
		for v := range V {
			copy(a.E[v*D:], row)
		}
		// Make each bag hold two distinct ids at least, the first one first.
		for b := range a.Bags() {
			lo, hi := a.Bag(b)
			if hi-lo >= 2 && a.IDs[lo] == a.IDs[lo+1] {
				a.IDs[lo+1] = (a.IDs[lo] + 1) % int32(V)
			}
		}
		fwd := embgrad.BagForward
		if f, ok := k.(BagForwarder); ok {
			fwd = f.BagForward
		}
		r.Try(c, func() error {
			out := make([]float32, a.Bags()*D)
			if err := fwd(out, a.MaxIndices, a.E, V, D, a.IDs, a.Offsets, nil, a.Opt); err != nil {
				return fmt.Errorf("forward rejected valid input: %v", err)
			}
			for b := range a.Bags() {
				lo, hi := a.Bag(b)
				for j := range D {
					want := int32(-1)
					if hi > lo {
						want = a.IDs[lo]
					}
					if got := a.MaxIndices[b*D+j]; got != want {
						return fmt.Errorf("forward: bag %d col %d: max index %d, want %d (ties go to the first occurrence; bag ids %v)", b, j, got, want, a.IDs[lo:hi])
					}
				}
			}
			dst, _, err := suite.Bag(k.BagBackward, make([]float32, V*D), nil, *a)
			if err != nil {
				return suite.Accepted(err)
			}
			want := make([]float32, V*D)
			for b := range a.Bags() {
				lo, hi := a.Bag(b)
				if hi > lo {
					for j := range D {
						want[int(a.IDs[lo])*D+j] += a.GradOut[b*D+j]
					}
				}
			}
			// Each bag's first id is distinct from the other bags' only by
			// chance, so compare with the loop in bag order: a single bag per
			// element is exact, several are within one rounding each.
			ref, err := reference.BagOracle(make([]float32, V*D), nil, *a)
			if err != nil {
				return fmt.Errorf("gradcheck bug: %v", err)
			}
			if err := ref.Check(dst, nil); err != nil {
				return fmt.Errorf("ties: %w", err)
			}
			for e := range want {
				if ref.Count[e] == 1 && math.Float32bits(dst[e]) != math.Float32bits(want[e]) {
					return fmt.Errorf("ties: dst[%d,%d] = %v, want exactly %v", e/D, e%D, dst[e], want[e])
				}
			}
			return nil
		})
	}
}

func bagWorkers(k embgrad.BagKernel, cfg Config, r *report) {
	for i, mode := range []embgrad.BagMode{embgrad.BagSum, embgrad.BagMean, embgrad.BagMax, embgrad.BagSum} {
		for _, D := range []int{1, 17, 64} {
			rng := cfg.Stream("bag/workers", i*200+D)
			s := suite.BagSpec{V: 50, D: D, B: 40, MaxL: 30, Rows: 20, Mode: mode, Pad: true, Empty: true, Kind: suite.Normal}
			if mode != embgrad.BagMax {
				s.Scale = true
			}
			s.Weights = i == 3
			c := suite.NewBagCase(rng, s)
			start := suite.Fill(rng, s.V*s.D, suite.Normal)
			r.Try(c, func() error {
				d1, w1, err := bagRun(k, c, start, false)
				if err != nil {
					return err
				}
				d2, w2, err := bagRun(k, c, start, false)
				if err != nil {
					return err
				}
				if suite.FirstDiff(d1, d2) >= 0 || suite.FirstDiff(w1, w2) >= 0 {
					return errors.New("two identical calls gave different bits")
				}
				p, ok := k.(embgrad.BagParallel)
				if !ok {
					return nil
				}
				for w := 1; w <= 4; w++ {
					dn, wn, err := bagRun(p.WithBagWorkers(w), c, start, false)
					if err != nil {
						return fmt.Errorf("workers=%d: %w", w, err)
					}
					if e := suite.FirstDiff(dn, d1); e >= 0 {
						return fmt.Errorf("workers=%d: dst[%d] = %v, differs from %v", w, e, dn[e], d1[e])
					}
					if e := suite.FirstDiff(wn, w1); e >= 0 {
						return fmt.Errorf("workers=%d: dw[%d] = %v, differs from %v", w, e, wn[e], w1[e])
					}
				}
				return nil
			})
		}
	}
}

// bagBad is an invalid bag call; mem, if set, lays buffers over each
// other.
type bagBad struct {
	name string
	a    embgrad.BagArgs
	dw   []float32
	// alias, if set, rebuilds the call with buffers sharing memory; it
	// gets dst and dw and returns the args and dw to use.
	alias func(dst []float32, a embgrad.BagArgs, dw []float32) (embgrad.BagArgs, []float32)
}

func (c bagBad) String() string { return c.name }

func bagInvalid(k embgrad.BagKernel, cfg Config, r *report) {
	const V, D = 6, 3
	rng := cfg.Stream("bag/invalid-input", 0)
	E := suite.Fill(rng, V*D, suite.Normal)
	sum := embgrad.BagArgs{V: V, D: D, IDs: []int32{1, 2, 3, 4, 5}, Offsets: []int32{0, 2, 2, 4},
		GradOut: suite.Fill(rng, 4*D, suite.Normal), E: E}
	weighted := sum
	weighted.Weights = suite.Fill(rng, 5, suite.Normal)
	maxA := sum
	maxA.Opt.Mode = embgrad.BagMax
	maxA.MaxIndices = make([]int32, 4*D)
	if err := embgrad.BagForward(make([]float32, 4*D), maxA.MaxIndices, E, V, D, maxA.IDs, maxA.Offsets, nil, maxA.Opt); err != nil {
		panic(err)
	}
	with := func(name string, base embgrad.BagArgs, f func(a *embgrad.BagArgs)) bagBad {
		a := base
		a.IDs, a.Offsets, a.MaxIndices = slices.Clone(a.IDs), slices.Clone(a.Offsets), slices.Clone(a.MaxIndices)
		f(&a)
		c := bagBad{name: name, a: a}
		if a.Weights != nil {
			c.dw = make([]float32, len(a.Weights))
		}
		return c
	}
	cases := []bagBad{
		with("offsets[0] = 1", sum, func(a *embgrad.BagArgs) { a.Offsets[0] = 1 }),
		with("decreasing offsets", sum, func(a *embgrad.BagArgs) { a.Offsets[2] = 1 }),
		with("offset past len(ids)", sum, func(a *embgrad.BagArgs) { a.Offsets[3] = 6 }),
		with("negative offset", sum, func(a *embgrad.BagArgs) { a.Offsets[1] = -1 }),
		with("no offsets with ids", sum, func(a *embgrad.BagArgs) { a.Offsets = nil; a.GradOut = nil }),
		with("include_last_offset short of len(ids)", sum, func(a *embgrad.BagArgs) { a.Opt.IncludeLastOffset = true; a.GradOut = a.GradOut[:3*D] }),
		with("include_last_offset without offsets", sum, func(a *embgrad.BagArgs) { a.Opt.IncludeLastOffset = true; a.Offsets = nil; a.GradOut = nil }),
		with("short gradOut", sum, func(a *embgrad.BagArgs) { a.GradOut = a.GradOut[:4*D-1] }),
		with("id = V", sum, func(a *embgrad.BagArgs) { a.IDs[4] = V }),
		with("negative id", sum, func(a *embgrad.BagArgs) { a.IDs[0] = -1 }),
		with("padding = V", sum, func(a *embgrad.BagArgs) { a.Opt.Options = a.Opt.WithPadding(V) }),
		with("unknown mode", sum, func(a *embgrad.BagArgs) { a.Opt.Mode = 3 }),
		with("weights in mean mode", weighted, func(a *embgrad.BagArgs) { a.Opt.Mode = embgrad.BagMean }),
		with("short weights", weighted, func(a *embgrad.BagArgs) { a.Weights = a.Weights[:4] }),
		with("weights without E", weighted, func(a *embgrad.BagArgs) { a.E = nil }),
		with("scale_grad_by_freq in max mode", maxA, func(a *embgrad.BagArgs) { a.Opt.ScaleGradByFreq = true }),
		with("max without maxIndices", maxA, func(a *embgrad.BagArgs) { a.MaxIndices = nil }),
		with("max index past V", maxA, func(a *embgrad.BagArgs) { a.MaxIndices[D+1] = V }),
		with("max index in an empty bag", maxA, func(a *embgrad.BagArgs) { a.MaxIndices[D] = 0 }), // bag 1 is empty
		with("-1 in a non-empty bag", maxA, func(a *embgrad.BagArgs) { a.MaxIndices[0] = -1 }),
		with("maxIndices in sum mode", sum, func(a *embgrad.BagArgs) { a.MaxIndices = make([]int32, 4*D) }),
	}
	c := with("dw given without weights", sum, func(*embgrad.BagArgs) {})
	c.dw = make([]float32, 5)
	cases = append(cases, c)
	c = with("short dw", weighted, func(*embgrad.BagArgs) {})
	c.dw = c.dw[:4]
	cases = append(cases, c)
	alias := func(name string, base embgrad.BagArgs, f func(dst []float32, a embgrad.BagArgs, dw []float32) (embgrad.BagArgs, []float32)) bagBad {
		c := with(name, base, func(*embgrad.BagArgs) {})
		c.alias = f
		return c
	}
	cases = append(cases,
		alias("dst overlaps gradOut", sum, func(dst []float32, a embgrad.BagArgs, dw []float32) (embgrad.BagArgs, []float32) {
			a.GradOut = dst[len(dst)-len(a.GradOut):]
			return a, dw
		}),
		alias("dst overlaps E", weighted, func(dst []float32, a embgrad.BagArgs, dw []float32) (embgrad.BagArgs, []float32) {
			a.E = dst
			return a, dw
		}),
		alias("dw overlaps weights", weighted, func(dst []float32, a embgrad.BagArgs, dw []float32) (embgrad.BagArgs, []float32) {
			a.Weights = dw
			return a, dw
		}),
		alias("dw overlaps dst", weighted, func(dst []float32, a embgrad.BagArgs, dw []float32) (embgrad.BagArgs, []float32) {
			return a, dst[:len(dw)]
		}),
	)
	for i, c := range cases {
		r.Try(c, func() error { return bagInvalidOne(k, c, cfg.Stream("bag/invalid-input", i+1).Uint64()) })
	}
}

func bagInvalidOne(k embgrad.BagKernel, c bagBad, seed uint64) error {
	dst := make([]float32, c.a.V*c.a.D)
	for i := range dst {
		dst[i] = float32(seed%1000)/64 - float32(i)
	}
	a, dw := c.a, c.dw
	if dw != nil {
		for i := range dw {
			dw[i] = float32(i) + 0.5
		}
	}
	if c.alias != nil {
		a, dw = c.alias(dst, a, dw)
	}
	dst0, dw0 := slices.Clone(dst), slices.Clone(dw)
	var w0 []float32
	if a.Weights != nil {
		w0 = slices.Clone(a.Weights)
	}
	for _, scratch := range []bool{false, true} {
		err := suite.Protect(func() error {
			if scratch {
				return embgrad.BagScratch(k, dst, dw, a)
			}
			return k.BagBackward(dst, dw, a)
		})
		how := "BagBackward"
		if scratch {
			how = "BagScratch"
		}
		switch {
		case suite.IsViolation(err, suite.Panicked):
			return fmt.Errorf("%s: %w", how, err)
		case err == nil:
			return fmt.Errorf("%s accepted invalid input", how)
		case !errors.Is(err, embgrad.ErrInvalidInput):
			return fmt.Errorf("%s: error %q does not wrap ErrInvalidInput", how, err)
		}
		if e := suite.FirstDiff(dst, dst0); e >= 0 {
			return fmt.Errorf("%s rejected the input (%v) but changed dst[%d]", how, err, e)
		}
		if e := suite.FirstDiff(dw, dw0); e >= 0 {
			return fmt.Errorf("%s rejected the input (%v) but changed dw[%d]", how, err, e)
		}
		if e := suite.FirstDiff(a.Weights, w0); e >= 0 {
			return fmt.Errorf("%s rejected the input (%v) but changed weights[%d]", how, err, e)
		}
	}
	return nil
}
