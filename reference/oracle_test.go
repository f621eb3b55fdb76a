package reference

import (
	"errors"
	"math"
	"testing"

	"github.com/embgrad/embgrad"
)

// oneCase: V=3, D=2; row 0 named twice, row 1 once, row 2 never.
func oneCase(t *testing.T, dst []float32, opt embgrad.Options) *Result {
	t.Helper()
	ids := []int32{0, 1, 0}
	g := []float32{1, 0.1, 2, 0.2, 3, 1e-8}
	r, err := Oracle(dst, 3, 2, ids, g, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCheckAcceptsExactAndRejectsPerturbed(t *testing.T) {
	r := oneCase(t, make([]float32, 6), embgrad.Options{})
	got := []float32{4, 0.1 + 1e-8, 2, 0.2, 0, 0}
	if err := r.Check(got); err != nil {
		t.Fatalf("exact result rejected: %v", err)
	}
	for _, tc := range []struct {
		k       int
		v       float32
		bitwise bool
	}{
		{2, math.Nextafter32(2, 3), false}, // single occurrence into zero: bitwise
		{0, 4.5, false},                    // duplicate sum far off
		{4, math.Float32frombits(1), true}, // untouched row changed
		{5, float32(math.Copysign(0, -1)), true},
	} {
		bad := append([]float32(nil), got...)
		bad[tc.k] = tc.v
		var m *Mismatch
		if err := r.Check(bad); !errors.As(err, &m) {
			t.Errorf("element %d = %v accepted", tc.k, tc.v)
		} else if m.Row*2+m.Col != tc.k || m.Bitwise != tc.bitwise || m.Total != 1 {
			t.Errorf("element %d: mismatch %+v", tc.k, m)
		}
	}
}

func TestBoundGrowsWithOccurrencesAndBase(t *testing.T) {
	zero := oneCase(t, make([]float32, 6), embgrad.Options{})
	if b := zero.Bound(2); b != 0 {
		t.Errorf("single occurrence into zero dst: bound %g, want 0", b)
	}
	if b := zero.Bound(0); !(b > 0 && b <= 2*U*4) {
		t.Errorf("two occurrences: bound %g, want in (0, 8u]", b)
	}
	base := oneCase(t, []float32{1, 1, 1, 1, 1, 1}, embgrad.Options{})
	if base.Bound(2) == 0 {
		t.Error("adding into a non-zero dst must allow one rounding")
	}
	scaled := oneCase(t, make([]float32, 6), embgrad.Options{ScaleGradByFreq: true})
	if scaled.Bound(0) <= zero.Bound(0)*0.5 {
		t.Errorf("scaled bound %g does not include the scaling error", scaled.Bound(0))
	}
}

func TestCheckNonFinite(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	r, err := Oracle(make([]float32, 2), 2, 1, []int32{0, 1}, []float32{nan, inf}, embgrad.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check([]float32{nan, inf}); err != nil {
		t.Errorf("propagated NaN/Inf rejected: %v", err)
	}
	for _, got := range [][]float32{{0, inf}, {nan, 0}, {nan, -inf}, {nan, nan}} {
		if r.Check(got) == nil {
			t.Errorf("%v accepted, want [NaN +Inf]", got)
		}
	}
}

func TestOracleRejectsInvalidInput(t *testing.T) {
	if _, err := Oracle(make([]float32, 2), 2, 1, []int32{2}, []float32{1}, embgrad.Options{}); !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("bad id: err = %v", err)
	}
}
