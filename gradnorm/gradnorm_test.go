package gradnorm_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradnorm"
)

const eps53 = 0x1p-53

// refNorm is the straightforward float64 2-norm.
func refNorm(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// randValues returns n values with magnitudes spread over 2^-20..2^20, so
// the float64 sums see many exponents.
func randValues(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(41)-20))
	}
	return x
}

// relBound checks |got-want| <= n·2^-53·want (plus one rounding for the
// square root), the stated error bound of a float64 norm over n elements.
func relBound(got, want float64, n int) bool {
	return math.Abs(got-want) <= float64(n+2)*eps53*want
}

func TestRowNormsDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, shape := range [][2]int{{0, 3}, {3, 0}, {1, 1}, {5, 7}, {17, 768}} {
		V, D := shape[0], shape[1]
		name := fmt.Sprintf("V=%d,D=%d", V, D)
		g := randValues(rng, V*D)
		dst := make([]float64, V)
		if err := gradnorm.RowNorms(dst, gradnorm.Dense(g, V, D)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for r := range V {
			want := refNorm(g[r*D : (r+1)*D])
			if !relBound(dst[r], want, D) {
				t.Errorf("%s: row %d norm %v, reference %v", name, r, dst[r], want)
			}
		}
	}
}

func TestRowNormsSparse(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const V, D = 100, 13
	rows := []int32{0, 3, 50, 99}
	vals := randValues(rng, len(rows)*D)
	dst := make([]float64, len(rows))
	if err := gradnorm.RowNorms(dst, gradnorm.SparseGrad(rows, vals, V, D)); err != nil {
		t.Fatal(err)
	}
	for k := range rows {
		if want := refNorm(vals[k*D : (k+1)*D]); !relBound(dst[k], want, D) {
			t.Errorf("row %d: norm %v, reference %v", rows[k], dst[k], want)
		}
	}
}

func TestRowNormsNonfinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	g := []float32{1, 2, nan, 4, inf, 1, nan, inf, 0}
	dst := make([]float64, 3)
	if err := gradnorm.RowNorms(dst, gradnorm.Dense(g, 3, 3)); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(dst[0]) || !math.IsInf(dst[1], 1) || !math.IsNaN(dst[2]) {
		t.Errorf("norms %v, want [NaN +Inf NaN]", dst)
	}
	e := gradnorm.FirstNonfinite([]gradnorm.Grad{gradnorm.Dense([]float32{1, 2}, 1, 2), gradnorm.Dense(g, 3, 3)})
	if e == nil || e.Tensor != 1 || e.Row != 0 || e.Col != 2 || !math.IsNaN(float64(e.Value)) {
		t.Errorf("FirstNonfinite = %+v, want tensor 1 row 0 col 2 NaN", e)
	}
	e = gradnorm.FirstNonfinite([]gradnorm.Grad{gradnorm.SparseGrad([]int32{4, 9}, []float32{1, 2, 3, inf}, 10, 2)})
	if e == nil || e.Row != 9 || e.Col != 1 {
		t.Errorf("sparse FirstNonfinite = %+v, want row 9 col 1", e)
	}
}

// wantInvalid fails unless err wraps ErrInvalidInput and mentions want.
func wantInvalid(t *testing.T, name string, err error, want string) {
	t.Helper()
	if !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("%s: error %v does not wrap ErrInvalidInput", name, err)
	} else if !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %q does not mention %q", name, err, want)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		g    gradnorm.Grad
		want string
	}{
		{"short", gradnorm.Dense(make([]float32, 5), 2, 3), "len(Values)=5"},
		{"negative", gradnorm.Dense(nil, -1, 3), "negative shape"},
		{"overflow", gradnorm.Dense(nil, math.MaxInt/2, 3), "overflows"},
		{"dense with rows", gradnorm.Grad{V: 1, D: 1, Rows: []int32{0}, Values: []float32{1}}, "Rows set"},
		{"row out of range", gradnorm.SparseGrad([]int32{0, 10}, make([]float32, 4), 10, 2), "row 10"},
		{"negative row", gradnorm.SparseGrad([]int32{-1}, make([]float32, 2), 10, 2), "row -1"},
		{"duplicate", gradnorm.SparseGrad([]int32{1, 3, 3}, make([]float32, 6), 10, 2), "row 3 at positions 1 and 2"},
		{"unsorted", gradnorm.SparseGrad([]int32{4, 2}, make([]float32, 4), 10, 2), "uncoalesced"},
	} {
		wantInvalid(t, c.name, c.g.Validate(), c.want)
		n := len(c.g.Values) / max(c.g.D, 1)
		dst := slices.Repeat([]float64{-7}, max(n, 0))
		wantInvalid(t, c.name+"/RowNorms", gradnorm.RowNorms(dst, c.g), c.want)
		for i, v := range dst {
			if v != -7 {
				t.Errorf("%s: RowNorms wrote dst[%d] on error", c.name, i)
			}
		}
	}
	wantInvalid(t, "dst length", gradnorm.RowNorms(make([]float64, 2), gradnorm.Dense(make([]float32, 3), 3, 1)), "len(dst)=2")
	_, err := gradnorm.TotalNorm(nil, 1)
	wantInvalid(t, "p=1", err, "p=1")
}

func TestCoalesce(t *testing.T) {
	g := gradnorm.SparseGrad([]int32{5, 2, 5, 2, 7}, []float32{1, 10, 2, 20, 3, 30, 4, 40, 5, 50}, 8, 2)
	orig := slices.Clone(g.Values)
	c, err := gradnorm.Coalesce(g)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Rows, []int32{2, 5, 7}) || !slices.Equal(c.Values, []float32{6, 60, 4, 40, 5, 50}) {
		t.Errorf("Coalesce = rows %v values %v", c.Rows, c.Values)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("coalesced gradient invalid: %v", err)
	}
	if !slices.Equal(g.Values, orig) {
		t.Errorf("Coalesce modified its input")
	}
	_, err = gradnorm.Coalesce(gradnorm.SparseGrad([]int32{8}, []float32{1, 2}, 8, 2))
	wantInvalid(t, "Coalesce out of range", err, "row 8")
}

func TestTotalNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a, b := randValues(rng, 1000), randValues(rng, 77)
	grads := []gradnorm.Grad{gradnorm.Dense(a, 100, 10), gradnorm.Dense(b, 7, 11)}
	got, err := gradnorm.TotalNorm(grads, 2)
	if err != nil {
		t.Fatal(err)
	}
	// torch's definition: the 2-norm of the per-tensor 2-norms.
	na, nb := refNorm(a), refNorm(b)
	want := math.Sqrt(na*na + nb*nb)
	if !relBound(got, want, 1077+4) {
		t.Errorf("total 2-norm %v, reference %v", got, want)
	}
	got, _ = gradnorm.TotalNorm(grads, math.Inf(1))
	var m float64
	for _, v := range slices.Concat(a, b) {
		m = math.Max(m, math.Abs(float64(v)))
	}
	if got != m {
		t.Errorf("inf-norm %v, want max|x| = %v exactly", got, m)
	}
	if z, _ := gradnorm.TotalNorm(nil, 2); z != 0 {
		t.Errorf("norm of nothing = %v", z)
	}
	b[3] = float32(math.Inf(1))
	if n, _ := gradnorm.TotalNorm(grads, 2); !math.IsInf(n, 1) {
		t.Errorf("with +Inf: 2-norm %v", n)
	}
	b[5] = float32(math.NaN())
	for _, p := range []float64{2, math.Inf(1)} {
		if n, _ := gradnorm.TotalNorm(grads, p); !math.IsNaN(n) {
			t.Errorf("with NaN: p=%v norm %v, want NaN", p, n)
		}
	}
}

// TestScalePowerOfTwo: scaling by 2^k scales the norm by exactly 2^k when
// nothing overflows or goes subnormal (every float64 step scales exactly).
func TestScalePowerOfTwo(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	x := randValues(rng, 4099)
	for _, p := range []float64{2, math.Inf(1)} {
		n0, _ := gradnorm.TotalNorm([]gradnorm.Grad{gradnorm.Dense(x, 1, len(x))}, p)
		for k := -40; k <= 40; k += 5 {
			y := make([]float32, len(x))
			for i, v := range x {
				y[i] = float32(math.Ldexp(float64(v), k))
			}
			n, _ := gradnorm.TotalNorm([]gradnorm.Grad{gradnorm.Dense(y, 1, len(y))}, p)
			if n != math.Ldexp(n0, k) {
				t.Errorf("p=%v k=%d: norm %v, want 2^k·%v = %v", p, k, n, n0, math.Ldexp(n0, k))
			}
		}
	}
}

// TestSplitJoin: one tensor split into pieces has the same total, within
// the summation bound (and exactly for the inf-norm).
func TestSplitJoin(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const V, D = 64, 33
	x := randValues(rng, V*D)
	whole := []gradnorm.Grad{gradnorm.Dense(x, V, D)}
	for trial := range 20 {
		var parts []gradnorm.Grad
		for lo := 0; lo < V; {
			hi := min(V, lo+1+rng.IntN(20))
			parts = append(parts, gradnorm.Dense(x[lo*D:hi*D], hi-lo, D))
			lo = hi
		}
		for _, p := range []float64{2, math.Inf(1)} {
			a, _ := gradnorm.TotalNorm(whole, p)
			b, _ := gradnorm.TotalNorm(parts, p)
			if math.IsInf(p, 1) && a != b || !relBound(a, b, 2*V*D) {
				t.Errorf("trial %d p=%v: whole %v, %d parts %v", trial, p, a, len(parts), b)
			}
		}
	}
}
