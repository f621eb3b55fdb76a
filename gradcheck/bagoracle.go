package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// CheckBagOracle runs BagOracleChecks and returns all failures joined, or
// nil.
func CheckBagOracle(cfg Config) error { return suite.Join(suite.Run(BagOracleChecks(), cfg)) }

// BagOracleChecks returns the checks of the float64 bag oracle, independent
// of any kernel:
//
//   - bag/fd-gradient: reference.BagLoss's analytic gradient (the float64
//     bag backward of ∂ℓ/∂Y through the pooled forward reference.Pool64)
//     against central finite differences (gonum diff/fd) of the nonlinear
//     loss, every entry of ∂L/∂E, and of ∂L/∂w (the weight gradient) in
//     unscaled sum mode; over sum, mean and max with padding, scaling
//     (whose factors are constants of E, so the scaled backward is the
//     gradient of the loss with those factors) and weights. Max mode draws
//     tables whose entries are all distinct, a gap far above the step, so
//     no difference crosses a tie. Entries no term reaches must be exactly
//     zero in both. The tolerance, 1e-7·(1+|g|), is a hundred times
//     tighter than torch's allclose(atol=1e-5, rtol=1e-3);
//   - bag/max-ties: where rows tie, the float64 forward names the first
//     occurrence and the backward sends the whole gradient to that id,
//     exactly, the others receiving exactly nothing;
//   - bag/oracle-agrees: reference.BagOracle (what kernels are compared
//     with) equals BagBackward64 on the same inputs exactly.
func BagOracleChecks() []NamedCheck {
	return []NamedCheck{
		suite.NewCheck("bag/fd-gradient", "oracle", bagFDGradient),
		suite.NewCheck("bag/max-ties", "oracle", bagOracleTies),
		suite.NewCheck("bag/oracle-agrees", "oracle", bagOracleAgrees),
	}
}

const bagFDTol = 1e-7

// bagFDCase is a bag loss at a point.
type bagFDCase struct {
	*suite.BagCase
	E    []float64
	w    []float64
	loss reference.BagLoss
}

func newBagFDCase(rng *rand.Rand, s suite.BagSpec) *bagFDCase {
	c := &bagFDCase{BagCase: suite.NewBagCase(rng, s)}
	a := c.A
	c.E = make([]float64, a.V*a.D)
	if s.Mode == embgrad.BagMax {
		for k, p := range rng.Perm(len(c.E)) {
			c.E[k] = 3*float64(p)/float64(len(c.E)) - 1.5 // distinct, gaps ≥ 3/(V·D)
		}
	} else {
		for k := range c.E {
			c.E[k] = 3*rng.Float64() - 1.5
		}
	}
	if a.Weights != nil {
		c.w = make([]float64, len(a.Weights))
		for i := range c.w {
			c.w[i] = 2*rng.Float64() - 1
		}
	}
	c.loss = reference.NewBagLoss(reference.NewLoss(rng, a.Bags(), a.D))
	return c
}

func bagFDGradient(cfg Config, r *report) {
	n := 0
	for _, mode := range []embgrad.BagMode{embgrad.BagSum, embgrad.BagMean, embgrad.BagMax} {
		for v := range 8 {
			rng := cfg.Stream("bag/fd-gradient", n)
			n++
			s := suite.BagSpec{V: 2 + rng.IntN(6), D: 1 + rng.IntN(5), B: 1 + rng.IntN(4), MaxL: 5, Mode: mode,
				Pad: v&1 != 0, Empty: v&2 != 0, Kind: suite.Normal}
			if v&4 != 0 {
				s.Rows = 2
			}
			if mode != embgrad.BagMax {
				s.Scale = v%3 == 1
			}
			s.Weights = mode == embgrad.BagSum && v%2 == 0
			c := newBagFDCase(rng, s)
			r.Try(c, func() error { return bagFDOne(c, c.loss.Grad) })
		}
	}
}

// bagFDOne compares grad (the oracle's, or a wrong one in tests) with
// finite differences of c's loss.
func bagFDOne(c *bagFDCase, grad func(E, w []float64, a embgrad.BagArgs) (dE, dw []float64)) error {
	a := c.A
	dE, dw := grad(c.E, c.w, a)
	set := &fd.Settings{Formula: fd.Central, Step: 1e-5}
	fE := fd.Gradient(nil, func(E []float64) float64 { return c.loss.Value(E, c.w, a) }, c.E, set)
	// Which entries some term reaches: the rows of non-padding ids (sum,
	// mean) or the argmax entries (max).
	reached := make([]bool, len(c.E))
	if a.Opt.Mode == embgrad.BagMax {
		_, argmax := reference.Pool64(c.E, a, nil)
		for k, m := range argmax {
			if m >= 0 {
				reached[int(m)*a.D+k%a.D] = true
			}
		}
	} else {
		for _, id := range a.IDs {
			if !a.Opt.Skips(id) {
				for j := range a.D {
					reached[int(id)*a.D+j] = true
				}
			}
		}
	}
	for k := range dE {
		if !reached[k] {
			if dE[k] != 0 || fE[k] != 0 {
				return fmt.Errorf("dE[%d,%d] = %v (fd %v): no term reaches it, want exactly 0", k/a.D, k%a.D, dE[k], fE[k])
			}
			continue
		}
		if d := math.Abs(dE[k] - fE[k]); d > bagFDTol*(1+math.Abs(fE[k])) {
			return fmt.Errorf("dE[%d,%d] = %v, finite differences %v (|diff| %.3g)", k/a.D, k%a.D, dE[k], fE[k], d)
		}
	}
	if c.w == nil || a.Opt.ScaleGradByFreq {
		return nil // scaled: dw is PyTorch's ⟨g, E⟩, not a derivative of the scaled loss
	}
	fw := fd.Gradient(nil, func(w []float64) float64 { return c.loss.Value(c.E, w, a) }, c.w, set)
	for i := range dw {
		if a.Opt.Skips(a.IDs[i]) {
			if dw[i] != 0 || fw[i] != 0 {
				return fmt.Errorf("dw[%d] = %v (fd %v) at a padding position, want exactly 0", i, dw[i], fw[i])
			}
			continue
		}
		if d := math.Abs(dw[i] - fw[i]); d > bagFDTol*(1+math.Abs(fw[i])) {
			return fmt.Errorf("dw[%d] = %v, finite differences %v (|diff| %.3g)", i, dw[i], fw[i], d)
		}
	}
	return nil
}

func bagOracleTies(cfg Config, r *report) {
	for i := range 20 {
		rng := cfg.Stream("bag/max-ties-oracle", i)
		c := suite.NewBagCase(rng, suite.BagSpec{V: 2 + rng.IntN(8), D: 1 + rng.IntN(6), B: 1 + rng.IntN(5), MaxL: 6,
			Mode: embgrad.BagMax, Pad: i%2 == 1, Kind: suite.Normal})
		a := c.A
		E := make([]float64, a.V*a.D)
		for k := range E {
			E[k] = float64(rng.IntN(2)) // two values: ties everywhere
		}
		r.Try(c, func() error {
			_, argmax := reference.Pool64(E, a, nil)
			g := make([]float64, a.Bags()*a.D)
			for k := range g {
				g[k] = 1 + float64(k) // distinct, so a split or a wrong id shows
			}
			dst := make([]float64, len(E))
			reference.BagBackward64(dst, nil, a, nil, argmax, g, nil)
			want := make([]float64, len(E))
			for b := range a.Bags() {
				lo, hi := a.Bag(b)
				for j := range a.D {
					first, best := int32(-1), math.Inf(-1)
					for _, id := range a.IDs[lo:hi] {
						if !a.Opt.Skips(id) && E[int(id)*a.D+j] > best {
							first, best = id, E[int(id)*a.D+j]
						}
					}
					if argmax[b*a.D+j] != first {
						return fmt.Errorf("bag %d col %d: argmax %d, want the first maximum %d", b, j, argmax[b*a.D+j], first)
					}
					if first >= 0 {
						want[int(first)*a.D+j] += g[b*a.D+j]
					}
				}
			}
			for k := range want {
				if dst[k] != want[k] {
					return fmt.Errorf("dst[%d,%d] = %v, want exactly %v", k/a.D, k%a.D, dst[k], want[k])
				}
			}
			return nil
		})
	}
}

func bagOracleAgrees(cfg Config, r *report) {
	n := 0
	for _, mode := range []embgrad.BagMode{embgrad.BagSum, embgrad.BagMean, embgrad.BagMax} {
		for v := range 6 {
			rng := cfg.Stream("bag/oracle-agrees", n)
			n++
			s := suite.BagSpec{V: 1 + rng.IntN(30), D: 1 + rng.IntN(9), B: rng.IntN(8), MaxL: 7, Mode: mode, Pad: v%2 == 0,
				Empty: true, Last: v%3 == 0, Kind: suite.Normal}
			if mode != embgrad.BagMax {
				s.Scale = v%2 == 1
			}
			s.Weights = mode == embgrad.BagSum && v < 3
			c := suite.NewBagCase(rng, s)
			r.Try(c, func() error {
				a := c.A
				var dw0 []float32
				if a.Weights != nil {
					dw0 = make([]float32, len(a.IDs))
				}
				res, err := reference.BagOracle(make([]float32, a.V*a.D), dw0, a)
				if err != nil {
					return err
				}
				s, _ := reference.BagFactors(a)
				g, E := widen(a.GradOut), widen(a.E)
				dst := make([]float64, a.V*a.D)
				var dw []float64
				if a.Weights != nil {
					dw = make([]float64, len(a.IDs))
				}
				reference.BagBackward64(dst, dw, a, s, a.MaxIndices, g, E)
				for k := range dst {
					if dst[k] != res.Want[k] {
						return fmt.Errorf("BagOracle [%d,%d] = %v, BagBackward64 %v", k/a.D, k%a.D, res.Want[k], dst[k])
					}
				}
				for i := range dw {
					if dw[i] != res.DW[i] {
						return fmt.Errorf("BagOracle dw[%d] = %v, BagBackward64 %v", i, res.DW[i], dw[i])
					}
				}
				return nil
			})
		}
	}
}

func widen(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
