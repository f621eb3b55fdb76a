package gradcheck

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/half"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// HalfChecks returns the suite of a 16-bit gradOut into a float32 dst
// (embgrad.HalfKernel), each check run for bfloat16 and float16:
//
//   - half/oracle: the oracle matrix (widths, shapes, distributions,
//     padding, scaling, dst modes) with gradOut rounded to 16 bits, within
//     reference.HalfOracle's bound (the float32 one: widening is exact);
//   - half/exact: single occurrences into a zero dst bit-for-bit;
//   - half/nonfinite: NaN and ±Inf in gradOut propagate, padding swallows
//     them;
//   - half/subnormal: subnormal 16-bit gradOut values (a kernel flushing
//     them to zero is off by more than the bound);
//   - half/duplicates: rows named hundreds of times;
//   - half/repeat: the same call twice gives the same bits.
func HalfChecks(k embgrad.HalfKernel) []NamedCheck {
	h := func(name string, f func(embgrad.HalfKernel, Config, *report)) NamedCheck {
		return suite.NewCheck(name, k.Name(), func(cfg Config, r *report) { f(k, cfg, r) })
	}
	return []NamedCheck{
		h("half/oracle", func(k embgrad.HalfKernel, cfg Config, r *report) {
			halfMatrix(cfg, "half/oracle", r, func(c *hcase) error { _, err := runHalf(k, c); return err })
		}),
		h("half/exact", func(k embgrad.HalfKernel, cfg Config, r *report) {
			halfSingles(cfg, "half/exact", r, func(c *hcase) error { return exactHalf(k, c) })
		}),
		h("half/nonfinite", func(k embgrad.HalfKernel, cfg Config, r *report) {
			halfNonfinite(cfg, "half/nonfinite", r, func(c *hcase) error { _, err := runHalf(k, c); return err })
		}),
		h("half/subnormal", func(k embgrad.HalfKernel, cfg Config, r *report) {
			halfSubnormal(cfg, "half/subnormal", r, func(c *hcase) error { _, err := runHalf(k, c); return err })
		}),
		h("half/duplicates", func(k embgrad.HalfKernel, cfg Config, r *report) {
			halfHeavy(cfg, "half/duplicates", r, func(c *hcase) error { _, err := runHalf(k, c); return err })
		}),
		h("half/repeat", func(k embgrad.HalfKernel, cfg Config, r *report) {
			halfHeavy(cfg, "half/repeat", r, func(c *hcase) error {
				a, err := runHalf(k, c)
				if err != nil {
					return err
				}
				b, err := runHalf(k, c)
				if err != nil {
					return err
				}
				return suite.SameBits(b, a, c.D, "(the first of two identical calls)")
			})
		}),
	}
}

// Half16Checks returns the suite of a 16-bit gradOut into a 16-bit dst
// (embgrad.Half16Kernel), each check run for bfloat16 and float16:
//
//   - half16/oracle: the oracle matrix with gradOut and dst rounded to 16
//     bits, nearest-even and stochastic rounding alternating, within
//     reference.Half16Oracle's bound (float32 summation bound plus one final
//     rounding: ½ ulp, or 1 ulp stochastic); untouched rows bit-for-bit;
//   - half16/exact: single occurrences into a zero dst bit-for-bit (one
//     rounding of an exact value changes nothing), both roundings;
//   - half16/nonfinite: NaN stays NaN (never Inf), ±Inf propagate;
//   - half16/subnormal: subnormal gradOut and results are kept, not flushed;
//   - half16/duplicates: rows named hundreds of times, where a kernel that
//     accumulates in 16 bits drifts far past one rounding;
//   - half16/stochastic: rows whose float32 sum lies 3/8 of the way between
//     two 16-bit neighbours: the fraction rounded up and the mean match 3/8
//     within 5 standard deviations (2¹⁸ draws, 2²⁰ without -short); another
//     seed changes the result (a stochastic mode that became round-to-
//     nearest fails here), the same seed reproduces it;
//   - half16/repeat: the same call twice gives the same bits.
func Half16Checks(k embgrad.Half16Kernel) []NamedCheck {
	h := func(name string, f func(embgrad.Half16Kernel, Config, *report)) NamedCheck {
		return suite.NewCheck(name, k.Name(), func(cfg Config, r *report) { f(k, cfg, r) })
	}
	run := func(k embgrad.Half16Kernel) func(c *hcase) error {
		return func(c *hcase) error { _, err := runHalf16(k, c); return err }
	}
	return []NamedCheck{
		h("half16/oracle", func(k embgrad.Half16Kernel, cfg Config, r *report) {
			halfMatrix(cfg, "half16/oracle", r, run(k))
		}),
		h("half16/exact", func(k embgrad.Half16Kernel, cfg Config, r *report) {
			halfSingles(cfg, "half16/exact", r, func(c *hcase) error { return exactHalf16(k, c) })
		}),
		h("half16/nonfinite", func(k embgrad.Half16Kernel, cfg Config, r *report) {
			halfNonfinite(cfg, "half16/nonfinite", r, run(k))
		}),
		h("half16/subnormal", func(k embgrad.Half16Kernel, cfg Config, r *report) {
			halfSubnormal(cfg, "half16/subnormal", r, run(k))
		}),
		h("half16/duplicates", func(k embgrad.Half16Kernel, cfg Config, r *report) {
			halfHeavy(cfg, "half16/duplicates", r, run(k))
		}),
		h("half16/stochastic", func(k embgrad.Half16Kernel, cfg Config, r *report) { halfStochastic(k, cfg, r) }),
		h("half16/repeat", func(k embgrad.Half16Kernel, cfg Config, r *report) {
			halfHeavy(cfg, "half16/repeat", r, func(c *hcase) error {
				c.rnd, c.seed = embgrad.Stochastic, 7
				a, err := runHalf16(k, c)
				if err != nil {
					return err
				}
				b, err := runHalf16(k, c)
				if err != nil {
					return err
				}
				return sameU16(b, a, c.D, "(the first of two identical calls)")
			})
		}),
	}
}

// TestHalf runs HalfChecks(k) as subtests of t.
func TestHalf(t *testing.T, k embgrad.HalfKernel) {
	t.Helper()
	suite.Test(t, HalfChecks(k))
}

// TestHalf16 runs Half16Checks(k) as subtests of t.
func TestHalf16(t *testing.T, k embgrad.Half16Kernel) {
	t.Helper()
	suite.Test(t, Half16Checks(k))
}

// RunHalf runs HalfChecks(k) with cfg, one result per check.
func RunHalf(k embgrad.HalfKernel, cfg Config) []Result { return suite.Run(HalfChecks(k), cfg) }

// RunHalf16 runs Half16Checks(k) with cfg, one result per check.
func RunHalf16(k embgrad.Half16Kernel, cfg Config) []Result { return suite.Run(Half16Checks(k), cfg) }

// CheckHalf runs HalfChecks(k) and returns every failure joined.
func CheckHalf(k embgrad.HalfKernel, cfg Config) error { return suite.Join(RunHalf(k, cfg)) }

// CheckHalf16 runs Half16Checks(k) and returns every failure joined.
func CheckHalf16(k embgrad.Half16Kernel, cfg Config) error { return suite.Join(RunHalf16(k, cfg)) }

// hcase is a 16-bit call: a float32 case whose gradOut (and, for a 16-bit
// dst, dst) are rounded to the format.
type hcase struct {
	*tcase
	f    embgrad.Format
	g16  []uint16
	d16  []uint16 // the 16-bit dst's initial content
	rnd  embgrad.Rounding
	seed uint64
}

func (c *hcase) String() string {
	s := fmt.Sprintf("%v format=%v rounding=%v", c.tcase, c.f, c.rnd)
	if c.rnd == embgrad.Stochastic {
		s += fmt.Sprintf(" seed=%d", c.seed)
	}
	return s
}

func (c *hcase) opt() embgrad.HalfOptions {
	return embgrad.HalfOptions{Options: c.tcase.opt, Format: c.f, Rounding: c.rnd, Seed: c.seed}
}

var halfFormats = []embgrad.Format{embgrad.BFloat16, embgrad.Float16}

// narrow rounds x to format f, nearest even.
func narrow(f embgrad.Format, x []float32) []uint16 {
	h := make([]uint16, len(x))
	if f == embgrad.Float16 {
		half.NarrowFloat16(h, x)
	} else {
		half.NarrowBFloat16(h, x)
	}
	return h
}

func halfOf(c *tcase, f embgrad.Format) *hcase {
	return &hcase{tcase: c, f: f, g16: narrow(f, c.g), d16: narrow(f, c.dst)}
}

func runHalf(k embgrad.HalfKernel, c *hcase) ([]float32, error) {
	c.rnd, c.seed = embgrad.NearestEven, 0 // a float32 dst takes no 16-bit rounding
	want, err := reference.HalfOracle(c.dst, c.V, c.D, c.ids, c.g16, c.opt())
	if err != nil {
		return nil, fmt.Errorf("gradcheck bug: the oracle rejected the case: %v", err)
	}
	got, err := suite.Half(k, c.dst, c.V, c.D, c.ids, c.g16, c.opt())
	if err != nil {
		return nil, suite.Accepted(err)
	}
	return got, want.Check(got)
}

func runHalf16(k embgrad.Half16Kernel, c *hcase) ([]uint16, error) {
	want, err := reference.Half16Oracle(c.d16, c.V, c.D, c.ids, c.g16, c.opt())
	if err != nil {
		return nil, fmt.Errorf("gradcheck bug: the oracle rejected the case: %v", err)
	}
	got, err := suite.Half16(k, c.d16, c.V, c.D, c.ids, c.g16, c.opt())
	if err != nil {
		return nil, suite.Accepted(err)
	}
	return got, want.Check(got)
}

// sameU16 is suite.SameBits for 16-bit buffers.
func sameU16(got, want []uint16, D int, wantIs string) error {
	n, first := 0, -1
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	switch {
	case len(got) != len(want):
		return fmt.Errorf("got %d elements, want %d %s", len(got), len(want), wantIs)
	case first < 0:
		return nil
	}
	D = max(D, 1)
	return fmt.Errorf("row %d col %d: got %#04x, want %#04x %s; %d element(s) differ", first/D, first%D, got[first], want[first], wantIs, n)
}

func halfMatrix(cfg Config, check string, r *report, f func(*hcase) error) {
	for i, s := range matrix() {
		if cfg.Short && !inShort(i) {
			continue
		}
		c, ok := build(cfg.Stream(check, i), s)
		if !ok {
			continue
		}
		for j, fm := range halfFormats {
			h := halfOf(c, fm)
			if (i+j)%2 == 1 {
				h.rnd, h.seed = embgrad.Stochastic, uint64(i)
			}
			r.Try(h, func() error { return f(h) })
		}
	}
}

func halfSingles(cfg Config, check string, r *report, f func(*hcase) error) {
	for i, D := range suite.Widths {
		rng := cfg.Stream(check, i)
		c, _ := build(rng, spec{V: 40, D: D, N: 1 + rng.IntN(40), dist: distinct, pad: padMode(i % 2)})
		for j, fm := range halfFormats {
			h := halfOf(c, fm)
			if (i+j)%2 == 1 {
				h.rnd, h.seed = embgrad.Stochastic, uint64(i)
			}
			r.Try(h, func() error { return f(h) })
		}
	}
}

func exactHalf(k embgrad.HalfKernel, c *hcase) error {
	got, err := runHalf(k, c)
	if err != nil {
		return err
	}
	w := reference.Widen(c.f, c.g16)
	for i, id := range c.ids {
		if c.tcase.opt.Skips(id) {
			continue
		}
		if k := suite.FirstDiff(got[int(id)*c.D:int(id+1)*c.D], w[i*c.D:(i+1)*c.D]); k >= 0 {
			return fmt.Errorf("row %d (a single occurrence) col %d: got %v, want exactly %v", id, k, got[int(id)*c.D+k], w[i*c.D+k])
		}
	}
	return nil
}

func exactHalf16(k embgrad.Half16Kernel, c *hcase) error {
	got, err := runHalf16(k, c)
	if err != nil {
		return err
	}
	for i, id := range c.ids {
		if c.tcase.opt.Skips(id) {
			continue
		}
		row, g := got[int(id)*c.D:int(id+1)*c.D], c.g16[i*c.D:(i+1)*c.D]
		for j := range row {
			if row[j] != g[j] && !(g[j] == 0x8000 && row[j] == 0) { // −0 + +0 is +0
				return fmt.Errorf("row %d (a single occurrence) col %d: got %#04x, want exactly %#04x", id, j, row[j], g[j])
			}
		}
	}
	return nil
}

// halfNonfinite: rows 0–4 named, row 0 meets +Inf and −Inf (NaN), row 2 a
// NaN, rows 3 and 4 ±Inf; padding, when set, swallows a row of NaN.
func halfNonfinite(cfg Config, check string, r *report, f func(*hcase) error) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for i, D := range suite.Widths {
		rng := cfg.Stream(check, i)
		const V = 6
		c, _ := build(rng, spec{V: V, D: D, N: 24, dist: uniform, pad: padMode(i % 2), scale: i/2%2 == 1, fill: dstMode(i / 4 % 2)})
		for p := range c.ids {
			c.ids[p] = int32(rng.IntN(V - 1))
		}
		copy(c.ids, []int32{0, 0, 1, 2, 3, 4})
		col := func() int { return rng.IntN(D) }
		j := col()
		c.g[0*D+j], c.g[1*D+j] = inf, -inf
		c.g[3*D+col()] = nan
		c.g[4*D+col()] = inf
		c.g[5*D+col()] = -inf
		if c.opt.HasPadding {
			c.opt.PaddingIdx, c.ids[5] = 4, 4
			for j := range D {
				c.g[5*D+j] = nan
			}
		}
		for j, fm := range halfFormats {
			h := halfOf(c, fm)
			if (i+j)%2 == 1 {
				h.rnd, h.seed = embgrad.Stochastic, uint64(i)
			}
			r.Try(h, func() error { return f(h) })
		}
	}
}

// halfSubnormal draws gradOut (and dst) as random 16-bit patterns with the
// smallest exponent fields: subnormals and the smallest normals.
func halfSubnormal(cfg Config, check string, r *report, f func(*hcase) error) {
	for i, D := range suite.Widths {
		rng := cfg.Stream(check, i)
		c, _ := build(rng, spec{V: 8, D: D, N: 40, dist: uniform, scale: i%3 == 2, fill: dstMode(i % 2)})
		for j, fm := range halfFormats {
			h := halfOf(c, fm)
			tiny := func() uint16 { return tinyPattern(rng, fm) }
			for k := range h.g16 {
				h.g16[k] = tiny()
			}
			for k := range h.d16 {
				if c.fill == dstRandom {
					h.d16[k] = tiny()
				}
			}
			c.dst = reference.Widen(fm, h.d16) // the float32 dst form starts from the same values
			if (i+j)%2 == 1 {
				h.rnd, h.seed = embgrad.Stochastic, uint64(i)
			}
			r.Try(h, func() error { return f(h) })
		}
	}
}

// tinyPattern is a random sign, exponent field 0 (subnormal, 3 in 4) or 1,
// and a random fraction.
func tinyPattern(rng *rand.Rand, f embgrad.Format) uint16 {
	fb := uint(7)
	if f == embgrad.Float16 {
		fb = 10
	}
	x := uint16(rng.Uint32()) & (1<<fb - 1)
	if rng.IntN(4) == 0 {
		x |= 1 << fb
	}
	return x | uint16(rng.IntN(2))<<15
}

// halfHeavy runs cases with rows named hundreds of times (N = 1500, 400
// under -short; one row or Zipf), into a random dst, both formats.
func halfHeavy(cfg Config, check string, r *report, f func(*hcase) error) {
	for _, c := range heavy(cfg, check) {
		for _, fm := range halfFormats {
			h := halfOf(c, fm)
			r.Try(h, func() error { return f(h) })
		}
	}
}

// stochasticCase names each of V rows twice, with 1 and 3/8 ulp (the
// sign alternating by row), into a zero dst: every float32 sum lies 3/8 of
// the way from ±1 to its neighbour away from zero.
func stochasticCase(f embgrad.Format, V, D int, seed uint64) *hcase {
	fb := 7
	if f == embgrad.Float16 {
		fb = 10
	}
	c := &tcase{spec: spec{V: V, D: D, N: 2 * V, dist: distinct}, ids: make([]int32, 2*V), g: make([]float32, 2*V*D), dst: make([]float32, V*D)}
	for v := range V {
		c.ids[2*v], c.ids[2*v+1] = int32(v), int32(v)
		sign := float32(1 - 2*(v%2))
		for j := range D {
			c.g[2*v*D+j] = sign
			c.g[(2*v+1)*D+j] = sign * float32(math.Ldexp(3, -fb-3))
		}
	}
	h := halfOf(c, f)
	h.rnd, h.seed = embgrad.Stochastic, seed
	return h
}

func halfStochastic(k embgrad.Half16Kernel, cfg Config, r *report) {
	const V, p = 1 << 12, 3.0 / 8
	D := 256
	if cfg.Short {
		D = 64
	}
	for i, fm := range halfFormats {
		seed := cfg.Stream("half16/stochastic", i).Uint64()
		c := stochasticCase(fm, V, D, seed)
		r.Try(c, func() error {
			got, err := runHalf16(k, c)
			if err != nil {
				return err
			}
			ulp := reference.Ulp16(fm, 1)
			n, up, sum := float64(len(got)), 0.0, 0.0
			for e, x := range got {
				w := math.Abs(float64(reference.Widen1(fm, x)))
				switch w {
				case 1 + ulp:
					up++
				case 1:
				default:
					return fmt.Errorf("element %d: got %v, want ±1 or ±(1+ulp)", e, w)
				}
				sum += (w - 1) / ulp
			}
			sd := math.Sqrt(p * (1 - p) / n)
			if math.Abs(up/n-p) > 5*sd {
				return fmt.Errorf("rounded up %.5f of %.0f elements, want %.5f ± %.5f (5σ): stochastic rounding is biased or not stochastic", up/n, n, p, 5*sd)
			}
			if math.Abs(sum/n-p) > 5*sd {
				return fmt.Errorf("mean rounded excess %.5f ulp, want %.5f ± %.5f ulp (5σ)", sum/n, p, 5*sd)
			}
			other := *c
			other.seed = seed + 1
			got2, err := runHalf16(k, &other)
			if err != nil {
				return err
			}
			if sameU16(got2, got, D, "") == nil {
				return errors.New("seeds s and s+1 gave the same bits on every element: the rounding does not depend on the seed")
			}
			again, err := runHalf16(k, c)
			if err != nil {
				return err
			}
			return sameU16(again, got, D, "(the same seed: stochastic rounding must be reproducible)")
		})
	}
}
