package half16

import (
	"math"
	"math/rand/v2"
	"testing"
)

func sameNaN(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// The active implementation equals the generic one bit for bit: widening
// every 16-bit pattern (NaN payloads included), narrowing float32 values
// of every exponent with ties and NaNs, and adding at every length 0..130
// (NaN anywhere equal, as for impl/internal/vec).
func TestActiveMatchesGeneric(t *testing.T) {
	t.Logf("active: %s", Active())
	was := active
	defer func() { active = was }()
	for _, m := range impls {
		if !m.ok {
			t.Logf("%s: not supported here, not tested", m.name)
			continue
		}
		active = m
		t.Run(m.name, matchesGeneric)
	}
}

func matchesGeneric(t *testing.T) {
	all := make([]uint16, 1<<16)
	for i := range all {
		all[i] = uint16(i)
	}
	for f := range 2 {
		got, want := make([]float32, len(all)), make([]float32, len(all))
		Widen(f, got, all)
		generic.widen[f](want, all)
		for i := range got {
			w := math.Float32bits(want[i])
			if f == F16 && want[i] != want[i] && Active() != "generic" {
				w |= 0x00400000 // VCVTPH2PS quiets a signalling NaN, payload kept
			}
			if math.Float32bits(got[i]) != w {
				t.Fatalf("format %d: widen(%#04x) = %#08x, want %#08x", f, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
		// narrowing: random bits over all exponents, and ties just around
		// every 16-bit value (x ± the half of its dropped part)
		rng := rand.New(rand.NewPCG(1, uint64(f)))
		var src []float32
		for range 1 << 18 {
			src = append(src, math.Float32frombits(rng.Uint32()))
		}
		for _, w := range want {
			b := math.Float32bits(w)
			for _, d := range []uint32{0, 1, 0x1000, 0x8000, 0x7fff, 0x8001, 0xfff, 0x1001} {
				src = append(src, math.Float32frombits(b+d), math.Float32frombits(b-d))
			}
		}
		g16, w16 := make([]uint16, len(src)), make([]uint16, len(src))
		Narrow(f, g16, src)
		generic.narrow[f](w16, src)
		for i := range g16 {
			if g16[i] != w16[i] {
				t.Fatalf("format %d: narrow(%#08x) = %#04x, want %#04x", f, math.Float32bits(src[i]), g16[i], w16[i])
			}
		}
		for n := range 131 {
			for _, off := range []int{0, 1, 3} {
				s16 := make([]uint16, n+off)
				for i := range s16 {
					s16[i] = uint16(rng.Uint32())
				}
				s16 = s16[off:]
				base := make([]float32, n+off)[off:]
				for i := range base {
					base[i] = float32(rng.NormFloat64())
				}
				for op := range 2 {
					got, want := append([]float32(nil), base...), append([]float32(nil), base...)
					if op == 0 {
						Add(f, got, s16)
						generic.add[f](want, s16)
					} else {
						AddScaled(f, got, s16, 1/3.0)
						generic.addScaled[f](want, s16, 1/3.0)
					}
					for i := range got {
						if !sameNaN(got[i], want[i]) {
							t.Fatalf("format %d op %d n=%d: element %d = %#08x, want %#08x", f, op, n, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
						}
					}
				}
				// the tail writes nothing past len
				d := make([]uint16, n+2)
				d[n], d[n+1] = 0xabcd, 0xabcd
				Narrow(f, d[:n], base)
				if d[n] != 0xabcd || d[n+1] != 0xabcd {
					t.Fatalf("format %d n=%d: narrow wrote past len(dst)", f, n)
				}
			}
		}
	}
}

func TestChoosePureGo(t *testing.T) {
	if got := choose(impls, true); got.name != "generic" {
		t.Errorf("choose with purego: %s", got.name)
	}
}
