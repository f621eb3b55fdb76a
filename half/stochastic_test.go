package half

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Statistical tolerances are 5 standard deviations: a correct rounder fails one such check with
// probability about 5.7e-7 (two-sided normal tail; every count here is large enough, n·p ≥ 10⁴,
// for the normal approximation of the binomial), under 2e-5 over the 22 checks of a correct rounder.
// The seeds are fixed, so a run is reproducible either way.
const (
	draws = 1_000_000
	sigma = 5
)

type stochastic func(float32, uint64) uint16

// srCase is a value strictly between two neighbours, with its exact round-up probability.
type srCase struct {
	x      float32
	lo, hi uint16 // neighbour bit patterns, sign included
	p      float64
}

// srCases picks values at several fractional positions, in the normal and subnormal ranges,
// below the smallest subnormal, beyond the largest finite value, and negative.
func (f *format) srCases() []srCase {
	r := f.ref
	one := sortIndex(r, 1)
	var xs []float64
	at := func(i int, p float64) float64 { return r.vals[i] + p*(r.vals[i+1]-r.vals[i]) }
	for _, p := range []float64{0.5, 0.25 + 1.0/64, 0.1, 0.9, 1.0 / 64} {
		xs = append(xs, at(one, p))
	}
	xs = append(xs,
		at(3, 0.3),                  // subnormal
		at(0, 1.0/64),               // below the smallest subnormal
		at(len(r.vals)-2, 0.37),     // between the largest finite value and overflow
		-at(one+5, 0.75),            // negative
		-at(len(r.vals)/2, 1.0/3.0)) // mid-range
	var cs []srCase
	for _, v := range xs {
		x := float32(v) // the float32 nearest: its exact position is computed below
		ax := math.Abs(float64(x))
		lo, hi := r.bracket(ax)
		if lo == hi {
			panic(fmt.Sprintf("%s: %g is exact", f.name, x))
		}
		sign := uint16(0)
		if x < 0 {
			sign = 0x8000
		}
		p := (ax - r.vals[lo]) / (r.vals[hi] - r.vals[lo]) // exact: x and the neighbours are close
		cs = append(cs, srCase{x, sign | r.bits[lo], sign | r.bits[hi], p})
	}
	return cs
}

func sortIndex(r *reference, v float64) int {
	lo, _ := r.bracket(v)
	return lo
}

// checkProbability rounds each case draws times and compares the round-up frequency with p.
func (f *format) checkProbability(sr stochastic, seed uint64) error {
	var errs []error
	for _, c := range f.srCases() {
		up := 0
		for i := range uint64(draws) {
			switch sr(c.x, StochasticBits(seed, i)) {
			case c.hi:
				up++
			case c.lo:
			default:
				return fmt.Errorf("%s: x=%g rounded to neither neighbour %#04x, %#04x", f.name, c.x, c.lo, c.hi)
			}
		}
		freq, tol := float64(up)/draws, sigma*math.Sqrt(c.p*(1-c.p)/draws)
		if math.Abs(freq-c.p) > tol {
			errs = append(errs, fmt.Errorf("%s: x=%g (seed %d): rounded up %.6f of %d draws, want %.6f ± %.6f",
				f.name, c.x, seed, freq, draws, c.p, tol))
		}
	}
	return errors.Join(errs...)
}

// checkMean rounds draws values spread over [1, 4) once each and compares the mean rounding
// error with zero; its standard deviation follows from each value's own p and gap.
func (f *format) checkMean(sr stochastic, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 2))
	var sum, variance float64
	for i := range uint64(draws) {
		x := float32(1 + 3*r.Float64())
		lo, hi := f.ref.bracket(float64(x))
		got := float64(f.widen(sr(x, StochasticBits(seed, i))))
		sum += got - float64(x)
		if lo != hi {
			gap := f.ref.vals[hi] - f.ref.vals[lo]
			p := (float64(x) - f.ref.vals[lo]) / gap
			variance += p * (1 - p) * gap * gap
		}
	}
	if tol := sigma * math.Sqrt(variance); math.Abs(sum) > tol {
		return fmt.Errorf("%s (seed %d): summed rounding error %g over %d values, want 0 ± %g",
			f.name, seed, sum, draws, tol)
	}
	return nil
}

// checkSeeds rounds one slice with two seeds and with one seed twice, whole and in chunks.
func (f *format) checkSeeds(sr stochastic) error {
	const n = 10_000
	r := rand.New(rand.NewPCG(3, 3))
	in := make([]float32, n)
	for i := range in {
		in[i] = float32(1 + r.Float64())
	}
	round := func(seed uint64, src []float32, first uint64) []uint16 {
		out := make([]uint16, len(src))
		for i, x := range src {
			out[i] = sr(x, StochasticBits(seed, first+uint64(i)))
		}
		return out
	}
	a, b, c := round(1, in, 0), round(2, in, 0), append(round(1, in[:n/3], 0), round(1, in[n/3:], n/3)...)
	var errs []error
	differ := 0
	for i := range a {
		if a[i] != c[i] {
			errs = append(errs, fmt.Errorf("%s: element %d rounds to %#04x whole, %#04x in chunks", f.name, i, a[i], c[i]))
			break
		}
		if a[i] != b[i] {
			differ++
		}
	}
	// Two independent roundings differ with probability 2p(1-p), about 1/3 on average here.
	if differ < n/10 {
		errs = append(errs, fmt.Errorf("%s: seeds 1 and 2 round %d of %d values differently, want ≥ %d: the rounding ignores its random bits",
			f.name, differ, n, n/10))
	}
	return errors.Join(errs...)
}

func TestStochasticProbability(t *testing.T) {
	for _, f := range formats {
		if err := f.checkProbability(f.stochastic, 11); err != nil {
			t.Error(err)
		}
	}
}

func TestStochasticMean(t *testing.T) {
	for _, f := range formats {
		if err := f.checkMean(f.stochastic, 12); err != nil {
			t.Error(err)
		}
	}
}

func TestStochasticSeeds(t *testing.T) {
	for _, f := range formats {
		if err := f.checkSeeds(f.stochastic); err != nil {
			t.Error(err)
		}
	}
}

// The slice forms use StochasticBits(seed, first+i) for element i.
func TestStochasticSlices(t *testing.T) {
	for _, f := range formats {
		in := randomInputs(50_000, 5)
		got := make([]uint16, len(in))
		f.stochSlice(got[:1000], in[:1000], 9, 0)
		f.stochSlice(got[1000:], in[1000:], 9, 1000)
		for i, x := range in {
			if w := f.stochastic(x, StochasticBits(9, uint64(i))); got[i] != w {
				t.Fatalf("%s: slice element %d = %#04x, scalar %#04x", f.name, i, got[i], w)
			}
		}
	}
}

// Exact values, ±Inf and NaN are converted as by the nearest rounding whatever the random bits;
// every other value goes to one of its two neighbours.
func TestStochasticExactAndNeighbours(t *testing.T) {
	for _, f := range formats {
		bits := []uint64{0, math.MaxUint64, 1 << 63, StochasticBits(1, 1)}
		for h := range 1 << 16 {
			x := f.widen(uint16(h))
			for _, b := range bits {
				if got, want := f.stochastic(x, b), f.narrow(x); got != want {
					t.Fatalf("%s: stochastic(%g = %#04x, %#x) = %#04x, want %#04x", f.name, x, h, b, got, want)
				}
			}
		}
		in := append(f.boundaryInputs(), randomInputs(randomCount(t)/4, 6)...)
		for i, x := range in {
			got := f.stochastic(x, StochasticBits(4, uint64(i)))
			if x != x {
				if got != f.narrow(x) {
					t.Fatalf("%s: stochastic(NaN %#08x) = %#04x, want %#04x", f.name, math.Float32bits(x), got, f.narrow(x))
				}
				continue
			}
			lo, hi := f.ref.bracket(math.Abs(float64(x)))
			sign := uint16(0)
			if math.Signbit(float64(x)) {
				sign = 0x8000
			}
			if math.IsInf(float64(x), 0) {
				lo, hi = len(f.ref.vals)-1, len(f.ref.vals)-1
			}
			if got != sign|f.ref.bits[lo] && got != sign|f.ref.bits[hi] {
				t.Fatalf("%s: stochastic(%g = %#08x) = %#04x, want %#04x or %#04x",
					f.name, x, math.Float32bits(x), got, sign|f.ref.bits[lo], sign|f.ref.bits[hi])
			}
		}
	}
}

func TestStochasticChecksCatchBrokenRounders(t *testing.T) {
	for _, f := range formats {
		nearest := func(x float32, _ uint64) uint16 { return f.narrow(x) }
		// Biased: one random bit too few, so it rounds up with probability min(1, 2p).
		biased := func(x float32, b uint64) uint16 { return f.stochastic(x, b>>1) }
		if f.checkProbability(nearest, 11) == nil {
			t.Errorf("%s: the probability check passes round-to-nearest", f.name)
		}
		if f.checkSeeds(nearest) == nil {
			t.Errorf("%s: the seed check passes round-to-nearest", f.name)
		}
		if f.checkProbability(biased, 11) == nil {
			t.Errorf("%s: the probability check passes a biased rounder", f.name)
		}
		if f.checkMean(biased, 12) == nil {
			t.Errorf("%s: the mean check passes a biased rounder", f.name)
		}
	}
}

// A value at fractional position p rounds up exactly when the random word is below ⌊p·2⁶⁴⌋ (exact
// when at most 64 bits are dropped). This pins the probability down deterministically, including
// where it is too small to observe, and the direction of the comparison.
func TestStochasticThreshold(t *testing.T) {
	for _, f := range formats {
		in := append(f.boundaryInputs(), randomInputs(randomCount(t)/4, 10)...)
		for e := 20; e <= 149; e++ {
			in = append(in, float32(math.Ldexp(1, -e)), float32(math.Ldexp(1.5, -e)), float32(math.Ldexp(1.9375, -e)))
		}
		for _, x := range in {
			ax := math.Abs(float64(x))
			if x != x || math.IsInf(ax, 0) {
				continue
			}
			lo, hi := f.ref.bracket(ax)
			if lo == hi {
				continue
			}
			sign := uint16(0)
			if math.Signbit(float64(x)) {
				sign = 0x8000
			}
			// The gap between neighbours is a power of two, so p is exact.
			p := (ax - f.ref.vals[lo]) / (f.ref.vals[hi] - f.ref.vals[lo])
			th := uint64(math.Floor(math.Ldexp(p, 64)))
			if got := f.stochastic(x, th); got != sign|f.ref.bits[lo] {
				t.Fatalf("%s: stochastic(%g = %#08x, %#x) = %#04x, want %#04x (threshold ⌊p·2⁶⁴⌋ = %#x)",
					f.name, x, math.Float32bits(x), th, got, sign|f.ref.bits[lo], th)
			}
			if th == 0 {
				continue
			}
			if got := f.stochastic(x, th-1); got != sign|f.ref.bits[hi] {
				t.Fatalf("%s: stochastic(%g = %#08x, %#x) = %#04x, want %#04x (threshold ⌊p·2⁶⁴⌋ = %#x)",
					f.name, x, math.Float32bits(x), th-1, got, sign|f.ref.bits[hi], th)
			}
		}
	}
}
