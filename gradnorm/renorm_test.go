package gradnorm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad/gradnorm"
)

func TestEmbeddingRenormExact(t *testing.T) {
	// Row 0 = [3 4] has 2-norm 5, 1-norm 7, inf-norm 4; row 1 is small.
	for _, c := range []struct {
		p, maxNorm, norm float64
	}{{2, 1, 5}, {1, 2, 7}, {math.Inf(1), 3, 4}} {
		tab := []float32{3, 4, 0.1, 0.2}
		if err := gradnorm.EmbeddingRenorm(tab, 2, 2, []int32{1, 0, 0}, c.maxNorm, c.p); err != nil {
			t.Fatal(err)
		}
		s := float32(c.maxNorm / (c.norm + 1e-7))
		want := []float32{3 * s, 4 * s, 0.1, 0.2}
		if !slices.Equal(tab, want) {
			t.Errorf("p=%v max_norm=%v: table %v, want %v", c.p, c.maxNorm, tab, want)
		}
	}
}

func TestEmbeddingRenormProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const V, D = 50, 24
	for trial := range 20 {
		p := []float64{1, 2, 3, math.Inf(1)}[trial%4]
		tab := make([]float32, V*D)
		for i := range tab {
			tab[i] = float32(rng.NormFloat64())
		}
		orig := slices.Clone(tab)
		ids := make([]int32, 30)
		for i := range ids {
			ids[i] = int32(rng.IntN(V / 2)) // rows >= V/2 are never named
		}
		maxNorm := 2 + 3*rng.Float64()
		name := fmt.Sprintf("trial=%d,p=%v,max_norm=%.3g", trial, p, maxNorm)
		if err := gradnorm.EmbeddingRenorm(tab, V, D, ids, maxNorm, p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for r := range V {
			row, o := tab[r*D:(r+1)*D], orig[r*D:(r+1)*D]
			norm := refPNorm(o, p)
			named := slices.Contains(ids, int32(r))
			if !named || norm <= maxNorm*(1-1e-6) {
				if !slices.Equal(row, o) {
					t.Errorf("%s: row %d (named %v, norm %v) changed", name, r, named, norm)
				}
				continue
			}
			if n := refPNorm(row, p); n > maxNorm*(1+4*0x1p-24) || n < maxNorm*(1-1e-5) {
				t.Errorf("%s: row %d renormed to %v, max_norm %v", name, r, n, maxNorm)
			}
		}
	}
}

func refPNorm(x []float32, p float64) float64 {
	var s float64
	for _, v := range x {
		a := math.Abs(float64(v))
		if math.IsInf(p, 1) {
			s = math.Max(s, a)
		} else {
			s += math.Pow(a, p)
		}
	}
	if math.IsInf(p, 1) {
		return s
	}
	return math.Pow(s, 1/p)
}

func TestEmbeddingRenormInvalid(t *testing.T) {
	for _, c := range []struct {
		name      string
		V, D      int
		ids       []int32
		maxNorm   float64
		p         float64
		wantInErr string
	}{
		{"id out of range", 2, 2, []int32{0, 2}, 1, 2, "id 2 at position 1"},
		{"negative id", 2, 2, []int32{-1}, 1, 2, "id -1"},
		{"max_norm NaN", 2, 2, nil, math.NaN(), 2, "max_norm=NaN"},
		{"max_norm negative", 2, 2, nil, -1, 2, "max_norm=-1"},
		{"p < 1", 2, 2, nil, 1, 0.5, "p=0.5"},
		{"p NaN", 2, 2, nil, 1, math.NaN(), "p=NaN"},
		{"shape", 3, 2, nil, 1, 2, "len(Values)=4"},
	} {
		tab := []float32{30, 40, 50, 60}
		err := gradnorm.EmbeddingRenorm(tab, c.V, c.D, c.ids, c.maxNorm, c.p)
		wantInvalid(t, c.name, err, c.wantInErr)
		if !slices.Equal(tab, []float32{30, 40, 50, 60}) {
			t.Errorf("%s: table changed on error", c.name)
		}
	}
}

// A NaN row is left alone (NaN > max_norm is false); an Inf row is
// multiplied by 0, as in torch.
func TestEmbeddingRenormNonfinite(t *testing.T) {
	nan := float32(math.NaN())
	tab := []float32{nan, 100, float32(math.Inf(1)), 100}
	if err := gradnorm.EmbeddingRenorm(tab, 2, 2, []int32{0, 1}, 1, 2); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(tab[0])) || tab[1] != 100 || !math.IsNaN(float64(tab[2])) || tab[3] != 0 {
		t.Errorf("table %v, want [NaN 100 NaN 0]", tab)
	}
}
