package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad/internal/suite"
)

// updateCase is one update primitive on k slices, the first nout written.
type updateCase struct {
	name string
	k    int // slices
	nout int // the first nout slices are written, the rest read-only
	// op and ref apply the primitive (the path under test, the pure-Go
	// reference) with scalars sc.
	op, ref func(s [][]float32, sc []float32)
	nsc     int // scalars
}

func updateCases(m impl) []updateCase {
	return []updateCase{
		{"SubScaled", 2, 1, func(s [][]float32, c []float32) { m.subScaled(s[0], s[1], c[0]) },
			func(s [][]float32, c []float32) { subScaledGeneric(s[0], s[1], c[0]) }, 1},
		{"SGDDecay", 2, 1, func(s [][]float32, c []float32) { m.sgdDecay(s[0], s[1], c[0], c[1]) },
			func(s [][]float32, c []float32) { sgdDecayGeneric(s[0], s[1], c[0], c[1]) }, 2},
		{"ScaleSub", 2, 1, func(s [][]float32, c []float32) { m.scaleSub(s[0], s[1], c[0], c[1]) },
			func(s [][]float32, c []float32) { scaleSubGeneric(s[0], s[1], c[0], c[1]) }, 2},
		{"Adam", 4, 3, func(s [][]float32, c []float32) { m.adam(s[0], s[1], s[2], s[3], c[0], c[1], c[2], c[3]) },
			func(s [][]float32, c []float32) { adamGeneric(s[0], s[1], s[2], s[3], c[0], c[1], c[2], c[3]) }, 4},
	}
}

// drawScalar is a scalar as the rules make them (a learning rate, a decay,
// 1−β, a negated step size, an eps) or, one time in four, a hostile one.
func drawScalar(rng *rand.Rand) float32 {
	if rng.IntN(4) == 0 {
		return scales[rng.IntN(len(scales))]
	}
	return float32(rng.Float64() * math.Ldexp(1, rng.IntN(20)-14))
}

// compareUpdate runs c's path and reference on the same data for every
// length 1..130, several start offsets of each slice and drawn scalars,
// and requires the same bits (any NaN where the reference has a NaN),
// untouched guards and read-only inputs unchanged.
func compareUpdate(t *testing.T, c updateCase) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
	for n := 1; n <= 130; n++ {
		for rep := range 12 {
			sc := make([]float32, c.nsc)
			for i := range sc {
				sc[i] = drawScalar(rng)
			}
			vals := make([][]float32, c.k)
			want := make([][]float32, c.k)
			bufs, got, offs := make([][]float32, c.k), make([][]float32, c.k), make([]int, c.k)
			for i := range vals {
				vals[i] = fill(rng, n)
				if c.name == "Adam" && i == 2 && rep%2 == 0 {
					for j := range vals[i] { // a second moment ≥ 0, as a run leaves it
						vals[i][j] = float32(math.Abs(float64(vals[i][j])))
					}
				}
				want[i] = append([]float32(nil), vals[i]...)
				offs[i] = rng.IntN(8)
				bufs[i], got[i] = guarded(vals[i], offs[i])
			}
			c.ref(want, sc)
			c.op(got, sc)
			name := fmt.Sprintf("n=%d rep=%d scalars=%v", n, rep, sc)
			for i := range got {
				eq := suite.SameBitsAnyNaN
				if i >= c.nout {
					eq = suite.SameBits
				}
				if err := eq(got[i], want[i], n, "(the pure-Go reference)"); err != nil {
					t.Fatalf("%s: slice %d: %v", name, i, err)
				}
				if err := checkGuards(bufs[i], offs[i], n); err != nil {
					t.Fatalf("%s: slice %d: %v", name, i, err)
				}
			}
		}
	}
}

// TestUpdateImpls compares every supported implementation of the update
// primitives with the pure-Go reference loops.
func TestUpdateImpls(t *testing.T) {
	for _, m := range impls {
		if !m.ok {
			t.Logf("%s: not supported on this CPU, skipped", m.name)
			continue
		}
		for _, c := range updateCases(m) {
			t.Run("impl="+m.name+"/"+c.name, func(t *testing.T) { compareUpdate(t, c) })
		}
	}
}

// TestAdamSqrtBits checks the vector square root against sqrt32 on bit
// patterns across the whole float32 range (every exponent, subnormals, ±0,
// ±Inf, NaNs, negatives): with m1 = 1, β1 = 1 (oma = 0), omb = 0 and g = 0
// the update is w = -1·(1/(sqrt(m2)+eps)) with eps the smallest subnormal,
// so a root off by one ulp shows in w (the division and the tiny eps keep
// distinct roots distinct away from overflow).
func TestAdamSqrtBits(t *testing.T) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(3, 3))
	m2 := make([]float32, n)
	for i := range m2 {
		switch {
		case i < 1024: // the smallest subnormals and their negatives
			m2[i] = math.Float32frombits(uint32(i/2) | uint32(i%2)<<31)
		case i < 2048: // around each power of two
			e := uint32(i-1024) % 256
			m2[i] = math.Float32frombits(e<<23 + uint32(rng.IntN(5)) - 2)
		default:
			m2[i] = math.Float32frombits(rng.Uint32())
		}
	}
	for _, m := range impls {
		if !m.ok {
			continue
		}
		w, m1, v, g := make([]float32, n), make([]float32, n), append([]float32(nil), m2...), make([]float32, n)
		ww, wm1, wv := make([]float32, n), make([]float32, n), append([]float32(nil), m2...)
		for i := range m1 {
			m1[i], wm1[i] = 1, 1
		}
		m.adam(w, m1, v, g, -1, 0, 0, math.SmallestNonzeroFloat32)
		adamGeneric(ww, wm1, wv, g, -1, 0, 0, math.SmallestNonzeroFloat32)
		if err := suite.SameBitsAnyNaN(w, ww, n, "(sqrt32)"); err != nil {
			t.Errorf("%s: %v", m.name, err)
		}
	}
	// sqrt32 itself on known roots, subnormal and normal.
	for _, x := range []float32{0x1p-148, 0x1p-126, 4, 0x1p100} {
		if got, want := sqrt32(x*x), x; x*x != 0 && got != want && !math.IsInf(float64(x*x), 0) {
			t.Errorf("sqrt32(%g²) = %g", x, got)
		}
	}
	if s := sqrt32(-1); s == s {
		t.Errorf("sqrt32(-1) = %g, want NaN", s)
	}
}

func TestUpdateLengthMismatchPanics(t *testing.T) {
	a, b := make([]float32, 3), make([]float32, 4)
	for name, f := range map[string]func(){
		"SubScaled": func() { SubScaled(a, b, 1) },
		"SGDDecay":  func() { SGDDecay(a, b, 1, 1) },
		"ScaleSub":  func() { ScaleSub(a, b, 1, 1) },
		"Adam":      func() { Adam(a, a, a, b, 1, 1, 1, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with unequal lengths did not panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkUpdate measures each supported implementation of the update
// primitives on a Llama-3 row (n=4096, in L1/L2).
func BenchmarkUpdate(b *testing.B) {
	const n = 4096
	s := [][]float32{make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)}
	for _, m := range impls {
		if !m.ok {
			continue
		}
		for _, c := range updateCases(m) {
			b.Run("impl="+m.name+"/op="+c.name, func(b *testing.B) {
				b.SetBytes(int64(4 * n * (c.k + c.nout)))
				sc := []float32{0.5, 0.25, 0.125, 1e-8}
				for b.Loop() {
					c.op(s, sc)
				}
			})
		}
	}
}
