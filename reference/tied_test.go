package reference

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/embgrad/embgrad"
)

func TestTiedOracleWithoutOutputIsOracle(t *testing.T) {
	a := embgrad.TiedArgs{V: 3, D: 2, IDs: []int32{0, 1, 0}, GradOut: []float32{1, 0.1, 2, 0.2, 3, 1e-8}}
	r, err := TiedOracle(make([]float32, 6), a)
	if err != nil {
		t.Fatal(err)
	}
	if r.Check([]float32{4, 0.1 + 1e-8, 2, 0.2, 0, 0}) != nil {
		t.Error("exact result rejected")
	}
	var m *Mismatch
	if err := r.Check([]float32{4, 0.1 + 1e-8, 2, 0.2, 0, math.Float32frombits(1)}); !errors.As(err, &m) || !m.Bitwise {
		t.Errorf("untouched row changed with T = 0: got %v, want a bitwise mismatch", err)
	}
}

func TestTiedBoundIsOneRoundingPerTermAndCatchesPerturbation(t *testing.T) {
	// One product into a zero dst: bound u·|p|, so the rounded product passes
	// and its neighbour two ulps away does not.
	a := embgrad.TiedArgs{V: 1, D: 1, T: 1, H: []float32{1.1}, DZ: []float32{0.3}}
	r, err := TiedOracle([]float32{0}, a)
	if err != nil {
		t.Fatal(err)
	}
	p := float64(a.DZ[0]) * float64(a.H[0])
	if b := r.Bound(0); !(b >= U*p && b <= 1.01*U*p) {
		t.Errorf("bound %g, want u·|p| = %g", b, U*p)
	}
	got := float32(p)
	if err := r.Check([]float32{got}); err != nil {
		t.Errorf("rounded product rejected: %v", err)
	}
	if r.Check([]float32{math.Nextafter32(math.Nextafter32(got, 2), 2)}) == nil {
		t.Error("product two ulps off accepted")
	}
	// Every term counts: a dropped product of a long sum is caught.
	rng := rand.New(rand.NewPCG(1, 1))
	a = embgrad.TiedArgs{V: 2, D: 3, IDs: []int32{1, 1}, GradOut: make([]float32, 6), T: 40, H: make([]float32, 40*3), DZ: make([]float32, 40*2)}
	for _, x := range [][]float32{a.GradOut, a.H, a.DZ} {
		for i := range x {
			x[i] = 2*rng.Float32() - 1
		}
	}
	dst := []float32{1, 2, 3, 4, 5, 6}
	if r, err = TiedOracle(dst, a); err != nil {
		t.Fatal(err)
	}
	good, dropped := make([]float32, 6), make([]float32, 6)
	for k := range good {
		good[k] = float32(r.Want[k])
		v, j := k/3, k%3
		dropped[k] = float32(r.Want[k] - float64(a.DZ[39*2+v])*float64(a.H[39*3+j]))
	}
	if err := r.Check(good); err != nil {
		t.Errorf("correctly rounded result rejected: %v", err)
	}
	if err := r.Check(dropped); err == nil {
		t.Error("result without the last t accepted")
	} else if m := new(Mismatch); !errors.As(err, &m) || m.Total != 6 {
		t.Errorf("result without the last t: %v, want all 6 elements off", err)
	}
}

func TestTiedOracleNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	// 0·Inf is NaN and must reach row 0; row 1 gets +Inf.
	a := embgrad.TiedArgs{V: 2, D: 1, T: 1, H: []float32{inf}, DZ: []float32{0, 2}}
	r, err := TiedOracle(make([]float32, 2), a)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Check([]float32{float32(math.NaN()), inf}); err != nil {
		t.Errorf("propagated NaN/Inf rejected: %v", err)
	}
	if r.Check([]float32{0, inf}) == nil {
		t.Error("lost NaN accepted")
	}
	// A product that overflows float32 but not float64 may give Inf.
	a = embgrad.TiedArgs{V: 1, D: 1, T: 1, H: []float32{1e30}, DZ: []float32{1e30}}
	if r, err = TiedOracle(make([]float32, 1), a); err != nil {
		t.Fatal(err)
	}
	if err := r.Check([]float32{inf}); err != nil {
		t.Errorf("float32 overflow rejected: %v", err)
	}
}

func TestTiedOracleRejectsInvalidInput(t *testing.T) {
	a := embgrad.TiedArgs{V: 2, D: 1, T: 1, H: []float32{1}, DZ: []float32{1}}
	if _, err := TiedOracle(make([]float32, 2), a); !errors.Is(err, embgrad.ErrInvalidInput) {
		t.Errorf("short dZ: err = %v", err)
	}
}

func TestSinusoidal(t *testing.T) {
	P := Sinusoidal(3, 4)
	for _, c := range []struct {
		p, j int
		want float64
	}{{0, 0, 0}, {0, 1, 1}, {1, 0, math.Sin(1)}, {1, 1, math.Cos(1)}, {2, 2, math.Sin(2 / 100.0)}, {2, 3, math.Cos(2 / 100.0)}} {
		if got := P[c.p*4+c.j]; math.Abs(got-c.want) > 1e-15 {
			t.Errorf("P[%d,%d] = %v, want %v", c.p, c.j, got, c.want)
		}
	}
}

func TestTiedPassCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	m, E, P := NewTiedModel(rng, 7, 4, 3, false)
	b := NewTiedBatch(rng, 7, 3, 5)
	r := m.Pass(E, P, b)
	if !(r.Loss > 0) {
		t.Errorf("cross-entropy %v, want > 0", r.Loss)
	}
	for i := range 5 {
		var sum float64
		for v := range 7 {
			sum += r.DZ[i*7+v]
			if v == int(b.Targets[i]) != (r.DZ[i*7+v] < 0) {
				t.Errorf("dZ[%d,%d] = %v: only the target's entry is negative", i, v, r.DZ[i*7+v])
			}
		}
		if math.Abs(sum) > 1e-15 {
			t.Errorf("row %d of dZ sums to %v, want 0", i, sum)
		}
	}
}
