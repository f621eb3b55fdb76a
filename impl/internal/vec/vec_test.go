package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/embgrad/embgrad/internal/suite"
)

// special holds values whose handling must not depend on the path: NaNs
// with distinct payloads, infinities, signed zeros, subnormals, and values
// whose sum overflows or cancels.
var special = []float32{
	float32(math.NaN()),
	math.Float32frombits(0x7fc00001), // quiet NaN, other payload
	math.Float32frombits(0xffc12345), // negative quiet NaN
	math.Float32frombits(0x7f800001), // signalling NaN
	float32(math.Inf(1)), float32(math.Inf(-1)),
	0, float32(math.Copysign(0, -1)),
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
	0x1p-130, -0x1.fffffcp-127, 0x1p-126,
	math.MaxFloat32, -math.MaxFloat32,
	1, -1, 0x1p-24, 1 + 0x1p-23,
}

// scales are the factors AddScaled is tested with: 1/count values as the
// kernels use them, and hostile ones.
var scales = []float32{
	1, 0.5, 1 / float32(3), 1 / float32(7), -2.5, 0, float32(math.Copysign(0, -1)),
	0x1p-149, 0x1p100, float32(math.Inf(1)), float32(math.NaN()),
}

const guard = 8 // guard elements each side of the tested sub-slice

// sentinel fills guard elements; any change to one is a stray write.
var sentinel = math.Float32frombits(0x7fa5a5a5)

// fill returns n values drawn from rng: ordinary floats of mixed magnitude
// and sign, with about one in eight taken from special.
func fill(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		if rng.IntN(8) == 0 {
			v[i] = special[rng.IntN(len(special))]
			continue
		}
		v[i] = float32(rng.NormFloat64() * math.Ldexp(1, rng.IntN(41)-20))
	}
	return v
}

// guarded returns a buffer of off+len(vals)+guard elements, sentinel-filled,
// with vals copied at off, and the sub-slice holding vals.
func guarded(vals []float32, off int) (buf, s []float32) {
	buf = make([]float32, off+len(vals)+guard)
	for i := range buf {
		buf[i] = sentinel
	}
	s = buf[off : off+len(vals) : off+len(vals)]
	copy(s, vals)
	return buf, s
}

// checkGuards reports the first guard element of buf (outside
// [off, off+n)) that is no longer the sentinel.
func checkGuards(buf []float32, off, n int) error {
	for i, x := range buf {
		if (i < off || i >= off+n) && math.Float32bits(x) != math.Float32bits(sentinel) {
			return fmt.Errorf("guard element %d (sub-slice is [%d, %d)) changed to %#08x", i, off, off+n, math.Float32bits(x))
		}
	}
	return nil
}

// compare runs op (the exported function, on whichever path is active) and
// ref (the pure-Go reference) on the same data, for every length 1..130 and
// every start offset 0..7 of dst and of src, and requires identical bits and
// untouched guards.
func compare(t *testing.T, op, ref func(dst, src []float32)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	for n := 1; n <= 130; n++ {
		for doff := 0; doff < 8; doff++ {
			for soff := 0; soff < 8; soff++ {
				name := fmt.Sprintf("n=%d,dstOffset=%d,srcOffset=%d", n, doff, soff)
				d0, s0 := fill(rng, n), fill(rng, n)
				want := append([]float32(nil), d0...)
				ref(want, s0)

				dbuf, dst := guarded(d0, doff)
				sbuf, src := guarded(s0, soff)
				op(dst, src)
				if err := suite.SameBitsAnyNaN(dst, want, n, "(the pure-Go reference)"); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if err := checkGuards(dbuf, doff, n); err != nil {
					t.Fatalf("%s: dst: %v", name, err)
				}
				if err := suite.SameBits(src, s0, n, "(src before the call)"); err != nil {
					t.Fatalf("%s: src modified: %v", name, err)
				}
				if err := checkGuards(sbuf, soff, n); err != nil {
					t.Fatalf("%s: src: %v", name, err)
				}
			}
		}
	}
}

// TestImpls compares every implementation this CPU supports with the
// pure-Go reference, whichever one is active.
func TestImpls(t *testing.T) {
	t.Logf("active: %s", active.name)
	for _, m := range impls {
		if !m.ok {
			t.Logf("%s: not supported on this CPU, skipped", m.name)
			continue
		}
		t.Run("impl="+m.name+"/Add", func(t *testing.T) { compare(t, m.add, addGeneric) })
		for _, s := range scales {
			t.Run(fmt.Sprintf("impl=%s/AddScaled/s=%v", m.name, s), func(t *testing.T) {
				compare(t,
					func(dst, src []float32) { m.addScaled(dst, src, s) },
					func(dst, src []float32) { addScaledGeneric(dst, src, s) })
			})
		}
	}
}

// TestExported checks that Add and AddScaled run the active implementation
// correctly.
func TestExported(t *testing.T) {
	compare(t, Add, addGeneric)
	compare(t,
		func(dst, src []float32) { AddScaled(dst, src, 1/float32(3)) },
		func(dst, src []float32) { addScaledGeneric(dst, src, 1/float32(3)) })
}

func TestChoose(t *testing.T) {
	if got := choose(impls, true); got.name != "generic" {
		t.Errorf("choose with purego set: got %s, want generic", got.name)
	}
	if PureGo && active.name != "generic" {
		t.Errorf("EMBGRAD_PUREGO=%s but the active implementation is %s", os.Getenv("EMBGRAD_PUREGO"), active.name)
	}
	if got := choose(impls, false); !got.ok || got.name != impls[0].name && impls[0].ok {
		t.Errorf("choose: got %s, want the first supported of impls", got.name)
	}
}

// TestPureGoFromEnv checks EMBGRAD_PUREGO's parsing: ParseBool's spellings
// are taken, and anything else keeps the assembly with a warning that names
// the variable.
func TestPureGoFromEnv(t *testing.T) {
	for _, c := range []struct {
		v          string
		want, warn bool
	}{
		{"", false, false},
		{"1", true, false},
		{"true", true, false},
		{"TRUE", true, false},
		{"t", true, false},
		{"0", false, false},
		{"false", false, false},
		{"yes", false, true},
		{"on", false, true},
		{" 1", false, true},
	} {
		var w strings.Builder
		if got := pureGoFromEnv(c.v, &w); got != c.want {
			t.Errorf("EMBGRAD_PUREGO=%q: %v, want %v", c.v, got, c.want)
		}
		if warned := strings.Contains(w.String(), "EMBGRAD_PUREGO"); warned != c.warn {
			t.Errorf("EMBGRAD_PUREGO=%q: warning %q, want one: %v", c.v, w.String(), c.warn)
		}
	}
}

// TestReference pins the reference loops themselves on values whose results
// are known exactly, including the unfused rounding of AddScaled.
func TestReference(t *testing.T) {
	dst := []float32{1, 2, float32(math.Inf(1)), 0}
	addGeneric(dst, []float32{0.5, -2, float32(math.Inf(-1)), float32(math.Copysign(0, -1))})
	if dst[0] != 1.5 || math.Float32bits(dst[1]) != 0 || !math.IsNaN(float64(dst[2])) || math.Float32bits(dst[3]) != 0 {
		t.Errorf("addGeneric: got %v", dst)
	}
	// (1+2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ rounds to 1 + 2⁻¹¹ in float32 (ties to
	// even); subtracting 1 + 2⁻¹¹ then gives 0. A fused multiply-add would
	// keep the 2⁻²⁴.
	x := float32(1 + 0x1p-12)
	dst = []float32{-(1 + 0x1p-11)}
	addScaledGeneric(dst, []float32{x}, x)
	if dst[0] != 0 {
		t.Errorf("addScaledGeneric fused the multiply and add: got %g, want 0", dst[0])
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"Add":       func() { Add(make([]float32, 3), make([]float32, 4)) },
		"AddScaled": func() { AddScaled(make([]float32, 4), make([]float32, 3), 1) },
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

func TestEmpty(t *testing.T) {
	Add(nil, nil)
	AddScaled([]float32{}, nil, 2)
	Prefetch(nil)
}

// TestPrefetch checks that every supported implementation's prefetch, and
// Prefetch, leave memory as it was (bit for bit, guards included) for
// every length 0..130 at every start within a cache line.
func TestPrefetch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	fs := map[string]func([]float32){"Prefetch": Prefetch}
	for _, m := range impls {
		if m.ok {
			fs[m.name] = m.prefetch
		}
	}
	for name, f := range fs {
		for n := 0; n <= 130; n++ {
			for off := range 16 {
				buf, s := guarded(fill(rng, n), off)
				before := append([]float32(nil), buf...)
				f(s)
				for i := range buf {
					if math.Float32bits(buf[i]) != math.Float32bits(before[i]) {
						t.Fatalf("%s: n=%d off=%d: element %d of the buffer changed", name, n, off, i)
					}
				}
			}
		}
	}
}

// BenchmarkAdd measures each supported implementation on rows that stay in
// L1 (n=64, 768) and in L2 (n=4096). Bytes: dst read and written, src read.
func BenchmarkAdd(b *testing.B) {
	for _, m := range impls {
		if !m.ok {
			continue
		}
		for _, n := range []int{64, 768, 4096} {
			dst, src := make([]float32, n), make([]float32, n)
			b.Run(fmt.Sprintf("impl=%s/op=Add/n=%d", m.name, n), func(b *testing.B) {
				b.SetBytes(int64(12 * n))
				for b.Loop() {
					m.add(dst, src)
				}
			})
			b.Run(fmt.Sprintf("impl=%s/op=AddScaled/n=%d", m.name, n), func(b *testing.B) {
				b.SetBytes(int64(12 * n))
				for b.Loop() {
					m.addScaled(dst, src, 0.5)
				}
			})
		}
	}
}

// ClearStream writes +0 exactly where clear does, for every length and
// misalignment around the non-temporal middle, and nothing outside s.
func TestClearStream(t *testing.T) {
	buf := make([]float32, 400)
	for off := 0; off < 9; off++ {
		for n := 0; n <= 300; n++ {
			for i := range buf {
				buf[i] = float32(i + 1)
			}
			ClearStream(buf[off : off+n])
			Fence()
			for i, x := range buf {
				inside := i >= off && i < off+n
				if inside && (x != 0 || math.Signbit(float64(x))) || !inside && x != float32(i+1) {
					t.Fatalf("off=%d n=%d: buf[%d] = %v", off, n, i, x)
				}
			}
		}
	}
}
