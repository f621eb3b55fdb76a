package tied

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"

	"github.com/embgrad/embgrad/gradcheck"
	"github.com/embgrad/embgrad/property"
)

// TestSuites runs both suites on every output path this machine has: the
// micro-kernels it supports and vec.AddScaled alone.
func TestSuites(t *testing.T) {
	paths := map[string]*path{"addscaled": {}}
	for i := range tiles {
		if tiles[i].ok {
			paths[tiles[i].name] = &path{&tiles[i]}
		}
	}
	for name, p := range paths {
		t.Run(name, func(t *testing.T) {
			gradcheck.TestTied(t, Kernel{path: p})
			property.TestTied(t, Kernel{path: p})
		})
	}
}

// unpackedTiled is tiled as it was before packing: the micro-kernel on dZ
// and H in place. Packing must change no bit.
func unpackedTiled(dst []float32, a embgrad.TiedArgs, v0, v1 int, tk *tileKernel) {
	V, D, T := a.V, a.D, a.T
	vFull := v0 + (v1-v0)/tk.mr*tk.mr
	dFull := D / tk.nr * tk.nr
	if vFull > v0 && dFull > 0 {
		for t0 := 0; t0 < T; t0 += kc {
			n := min(kc, T-t0)
			for j := 0; j < dFull; j += tk.nr {
				for v := v0; v < vFull; v += tk.mr {
					tk.fn(&dst[v*D+j], D, &a.DZ[t0*V+v], V, &a.H[t0*D+j], D, n)
				}
			}
		}
	}
	axpyRows(dst, a, v0, vFull, dFull, D)
	axpyRows(dst, a, vFull, v1, 0, D)
}

// TestPackedBitwise checks that the packed output part gives the same bits
// as the unpacked micro-kernel calls, at every worker count, on shapes with
// partial tiles, blocks and kc blocks; and that the comparison sees the
// same products summed in another order (two rows of t swapped).
func TestPackedBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2))
	for i := range tiles {
		tk := &tiles[i]
		if !tk.ok {
			continue
		}
		rows := 4 * tk.mr
		for _, s := range []struct{ V, D, T int }{
			{rows, tk.nr, 1}, {3*rows + tk.mr + 5, 2*tk.nr + 7, kc + 3}, {2*rows - 1, 3 * tk.nr, 2*kc + 1}, {tk.mr - 1, tk.nr + 1, 5},
		} {
			a := embgrad.TiedArgs{V: s.V, D: s.D, T: s.T, H: make([]float32, s.T*s.D), DZ: make([]float32, s.T*s.V)}
			for _, x := range [][]float32{a.H, a.DZ} {
				for i := range x {
					x[i] = 2*rng.Float32() - 1
				}
			}
			init := make([]float32, s.V*s.D)
			for i := range init {
				init[i] = rng.Float32()
			}
			want := slices.Clone(init)
			for v0 := 0; v0 < s.V; v0 += rows {
				unpackedTiled(want, a, v0, min(v0+rows, s.V), tk)
			}
			for _, w := range []int{1, 2, 3} {
				got := slices.Clone(init)
				Kernel{Workers: w, path: &path{tk}}.output(got, a)
				if i := firstDiff(got, want); i >= 0 {
					t.Errorf("%s %v workers=%d: dst[%d] = %v, unpacked %v", tk.name, s, w, i, got[i], want[i])
				}
			}
			if s.T < 2 || s.D < tk.nr || s.V < tk.mr {
				continue
			}
			// The mutant: rows t = 0 and 1 of dZ and of H swapped, the
			// same products summed in another order.
			m := a
			m.DZ, m.H = slices.Clone(a.DZ), slices.Clone(a.H)
			for _, r := range []struct {
				x []float32
				n int
			}{{m.DZ, s.V}, {m.H, s.D}} {
				for c := range r.n {
					r.x[c], r.x[r.n+c] = r.x[r.n+c], r.x[c]
				}
			}
			hp := make([]float32, s.T*(s.D/tk.nr*tk.nr))
			packH(hp, m, tk.nr)
			got := slices.Clone(init)
			ap := make([]float32, kc*rows)
			for v0 := 0; v0 < s.V; v0 += rows {
				tiled(got, m, v0, min(v0+rows, s.V), tk, hp, ap)
			}
			if firstDiff(got, want) < 0 {
				t.Errorf("%s %v: reordering two terms of the first tile's sums changed no bit: the comparison is blind", tk.name, s)
			}
		}
	}
}

func firstDiff(x, y []float32) int {
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return i
		}
	}
	return -1
}
