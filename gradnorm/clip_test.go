package gradnorm_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad/gradnorm"
)

// clipFunc has ClipGradNorm's signature, so the checks below can be run on
// deliberately broken versions too.
type clipFunc func(grads []gradnorm.Grad, maxNorm, p float64, errorIfNonfinite bool) (float64, error)

func cloneGrads(gs []gradnorm.Grad) []gradnorm.Grad {
	out := make([]gradnorm.Grad, len(gs))
	for i, g := range gs {
		g.Values = slices.Clone(g.Values)
		g.Rows = slices.Clone(g.Rows)
		out[i] = g
	}
	return out
}

func sameBits(a, b []gradnorm.Grad) bool {
	for i := range a {
		if !slices.EqualFunc(a[i].Values, b[i].Values, func(x, y float32) bool {
			return math.Float32bits(x) == math.Float32bits(y)
		}) {
			return false
		}
	}
	return true
}

// refTotal is the fp64 reference: torch's 2-norm of per-tensor 2-norms, or
// the largest |x|.
func refTotal(gs []gradnorm.Grad, p float64) float64 {
	var s float64
	for _, g := range gs {
		if math.IsInf(p, 1) {
			for _, v := range g.Values {
				s = math.Max(s, math.Abs(float64(v)))
			}
			continue
		}
		n := refNorm(g.Values)
		s += n * n
	}
	if math.IsInf(p, 1) {
		return s
	}
	return math.Sqrt(s)
}

// clipTol bounds the clipped norm: max_norm·(1 + 4·2^-24) covers the
// coefficient's rounding to float32, each product's rounding, and the
// float64 norm's own (negligible) error.
const clipTol = 4 * 0x1p-24

// checkClip runs every clipping property on clip and returns all faults.
func checkClip(clip clipFunc) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 30 {
		p := 2.0
		if trial%3 == 2 {
			p = math.Inf(1)
		}
		grads := []gradnorm.Grad{
			gradnorm.Dense(randValues(rng, 40*16), 40, 16),
			gradnorm.SparseGrad([]int32{1, 5, 6}, randValues(rng, 3*16), 10, 16),
		}
		total := refTotal(grads, p)
		// Below the total (clips), far above (no-op) and tiny (no-op scaled up
		// if the clamp were missing: max_norm well above the total).
		for _, maxNorm := range []float64{total * rng.Float64(), total * 1.5, total * 1e6} {
			name := fmt.Sprintf("trial=%d,p=%v,max_norm/total=%.3g", trial, p, maxNorm/total)
			g := cloneGrads(grads)
			got, err := clip(g, maxNorm, p, true)
			if err != nil {
				fail("%s: %v", name, err)
				continue
			}
			if !relBound(got, total, 2000) {
				fail("%s: returned total %v, reference %v", name, got, total)
			}
			if maxNorm/(total+1e-6) >= 1 {
				// The clamp makes this an exact no-op.
				if !sameBits(g, grads) {
					fail("%s: total below max_norm but gradients changed", name)
				}
				continue
			}
			after := refTotal(g, p)
			if after > maxNorm*(1+clipTol) {
				fail("%s: clipped norm %v > max_norm %v", name, after, maxNorm)
			}
			// Exactly torch's element rule: x * float32(coef).
			c := float32(math.Min(1, maxNorm/(total+1e-6)))
			for t := range g {
				for i, x := range grads[t].Values {
					if w := x * c; g[t].Values[i] != w {
						fail("%s: tensor %d elem %d = %v, want float32(%v·%v) = %v", name, t, i, g[t].Values[i], x, c, w)
						break
					}
				}
			}
			// Direction preserved.
			var dot, aa, bb float64
			for t := range g {
				for i, x := range grads[t].Values {
					y := float64(g[t].Values[i])
					dot += float64(x) * y
					aa += float64(x) * float64(x)
					bb += y * y
				}
			}
			if cos := dot / math.Sqrt(aa*bb); cos < 1-1e-9 {
				fail("%s: cosine(before, after) = %v", name, cos)
			}
		}
	}
	// Non-finite totals with error_if_nonfinite: an error and nothing scaled.
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		for _, p := range []float64{2, math.Inf(1)} {
			name := fmt.Sprintf("nonfinite=%v,p=%v", bad, p)
			grads := []gradnorm.Grad{gradnorm.Dense([]float32{3, 4, 5, 6}, 2, 2), gradnorm.Dense([]float32{1, bad}, 1, 2)}
			g := cloneGrads(grads)
			_, err := clip(g, 0.5, p, true)
			var ne *gradnorm.NonfiniteError
			if !errors.As(err, &ne) {
				fail("%s: error %v, want a *NonfiniteError", name, err)
			} else if ne.Tensor != 1 || ne.Col != 1 {
				fail("%s: error names tensor %d col %d, want 1 and 1", name, ne.Tensor, ne.Col)
			}
			if !sameBits(g, grads) {
				fail("%s: gradients scaled despite the error", name)
			}
		}
	}
	// An uncoalesced sparse gradient: refused, or its total is that of the
	// coalesced gradient. Row 2 appears twice with opposite values, so the
	// row's true gradient is 0 while the uncoalesced values have norm 5√2.
	unc := gradnorm.SparseGrad([]int32{2, 2}, []float32{3, 4, -3, -4}, 4, 2)
	coal, _ := gradnorm.Coalesce(unc)
	want := refTotal([]gradnorm.Grad{coal}, 2)
	if got, err := clip(cloneGrads([]gradnorm.Grad{unc}), 1, 2, true); err == nil && got != want {
		fail("uncoalesced: total %v, the coalesced gradient's is %v", got, want)
	}
	// max_norm must be finite and >= 0, refused before any write.
	for _, m := range []float64{-1, math.NaN(), math.Inf(1)} {
		grads := []gradnorm.Grad{gradnorm.Dense([]float32{3, 4}, 1, 2)}
		g := cloneGrads(grads)
		if _, err := clip(g, m, 2, false); err == nil || !sameBits(g, grads) {
			fail("max_norm=%v: err %v, unchanged %v", m, err, sameBits(g, grads))
		}
	}
	return errors.Join(errs...)
}

func TestClipGradNorm(t *testing.T) {
	if err := checkClip(gradnorm.ClipGradNorm); err != nil {
		t.Error(err)
	}
}

// totalAnyway is TotalNorm without the coalesced check: the norm of the
// values as they are.
func totalAnyway(grads []gradnorm.Grad, p float64) float64 {
	for i := range grads {
		grads[i].Sparse, grads[i].Rows = false, nil
		grads[i].V = len(grads[i].Values) / max(grads[i].D, 1)
	}
	n, _ := gradnorm.TotalNorm(grads, p)
	return n
}

func scaleAll(grads []gradnorm.Grad, c float32) {
	for _, g := range grads {
		for i := range g.Values {
			g.Values[i] *= c
		}
	}
}

// Broken clippers, each caught by checkClip.
var brokenClips = map[string]clipFunc{
	// No clamp: gradients below max_norm are scaled up.
	"no clamp": func(grads []gradnorm.Grad, maxNorm, p float64, errIf bool) (float64, error) {
		total, err := gradnorm.TotalNorm(grads, p)
		if err != nil {
			return 0, err
		}
		scaleAll(grads, float32(maxNorm/(total+1e-6)))
		return total, nil
	},
	// Catches NaN but not Inf.
	"NaN-only check": func(grads []gradnorm.Grad, maxNorm, p float64, errIf bool) (float64, error) {
		total, err := gradnorm.TotalNorm(grads, p)
		if err != nil {
			return 0, err
		}
		if errIf && math.IsNaN(total) {
			return total, gradnorm.FirstNonfinite(grads)
		}
		return gradnorm.ClipGradNorm(grads, maxNorm, p, false)
	},
	// The norm of uncoalesced values.
	"uncoalesced norm": func(grads []gradnorm.Grad, maxNorm, p float64, errIf bool) (float64, error) {
		if math.IsNaN(maxNorm) || math.IsInf(maxNorm, 0) || maxNorm < 0 {
			return 0, errors.New("bad max_norm")
		}
		if e := gradnorm.FirstNonfinite(grads); e != nil && errIf {
			return 0, e
		}
		total := totalAnyway(slices.Clone(grads), p)
		scaleAll(grads, float32(gradnorm.ClipCoef(maxNorm, total)))
		return total, nil
	},
}

func TestClipChecksCatchBroken(t *testing.T) {
	for name, f := range brokenClips {
		if err := checkClip(f); err == nil {
			t.Errorf("%s: checkClip found nothing wrong", name)
		} else {
			t.Logf("%s: caught: %.200v", name, err)
		}
	}
}

// TestClipNonfiniteNoError: without error_if_nonfinite, torch's arithmetic
// shows the problem: a NaN total makes everything NaN, an Inf total
// multiplies by 0.
func TestClipNonfiniteNoError(t *testing.T) {
	g := []gradnorm.Grad{gradnorm.Dense([]float32{1, float32(math.NaN()), 2}, 1, 3)}
	if n, err := gradnorm.ClipGradNorm(g, 1, 2, false); err != nil || !math.IsNaN(n) {
		t.Errorf("NaN: total %v err %v", n, err)
	}
	for i, v := range g[0].Values {
		if !math.IsNaN(float64(v)) {
			t.Errorf("NaN total: elem %d = %v, want NaN", i, v)
		}
	}
	g = []gradnorm.Grad{gradnorm.Dense([]float32{1, float32(math.Inf(1)), -2}, 1, 3)}
	if n, err := gradnorm.ClipGradNorm(g, 1, 2, false); err != nil || !math.IsInf(n, 1) {
		t.Errorf("Inf: total %v err %v", n, err)
	}
	if v := g[0].Values; v[0] != 0 || !math.IsNaN(float64(v[1])) || v[2] != 0 || !math.Signbit(float64(v[2])) {
		t.Errorf("Inf total: values %v, want [0 NaN -0]", v)
	}
}

// TestClipNoOpBitwise: a table whose total is below max_norm is left bit for
// bit, negative zeros and subnormals included.
func TestClipNoOpBitwise(t *testing.T) {
	x := []float32{float32(math.Copysign(0, -1)), 0x1p-149, -0x1p-149, 1e-30}
	g := []gradnorm.Grad{gradnorm.Dense(slices.Clone(x), 2, 2)}
	if _, err := gradnorm.ClipGradNorm(g, 1, 2, true); err != nil {
		t.Fatal(err)
	}
	if !sameBits(g, []gradnorm.Grad{gradnorm.Dense(x, 2, 2)}) {
		t.Errorf("no-op clip changed bits: %v", g[0].Values)
	}
}

// TestUncoalescedNorm: the classic bug. The norm of uncoalesced values counts
// a²+b² for a row whose gradient is a+b; here a = -b, so the true norm is 0.
func TestUncoalescedNorm(t *testing.T) {
	unc := gradnorm.SparseGrad([]int32{2, 0, 2}, []float32{3, 4, 1, 1, -3, -4}, 4, 2)
	if _, err := gradnorm.TotalNorm([]gradnorm.Grad{unc}, 2); err == nil {
		t.Errorf("TotalNorm accepted an uncoalesced gradient")
	}
	coal, err := gradnorm.Coalesce(unc)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := gradnorm.TotalNorm([]gradnorm.Grad{coal}, 2)
	bad := totalAnyway([]gradnorm.Grad{unc}, 2)
	if good != math.Sqrt2 || bad != math.Sqrt(52) {
		t.Errorf("coalesced norm %v (want √2), uncoalesced %v (want √52)", good, bad)
	}
}
