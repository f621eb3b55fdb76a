package half

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// format describes a 16-bit format from first principles (field widths) next to the package's
// conversions, so that the reference below never calls the code under test.
type format struct {
	name         string
	frac, bias   int // fraction bits and exponent bias
	narrow       func(float32) uint16
	widen        func(uint16) float32
	stochastic   func(float32, uint64) uint16
	narrowSlice  func([]uint16, []float32)
	widenSlice   func([]float32, []uint16)
	stochSlice   func([]uint16, []float32, uint64, uint64)
	ref          *reference
	infBits      uint16
	expMask      uint16
	quietBit     uint16
	fracMask     uint16
	maxFiniteBit uint16
}

func newFormat(name string, frac, bias int) *format {
	f := &format{name: name, frac: frac, bias: bias}
	f.fracMask = 1<<frac - 1
	f.expMask = 0x7fff &^ f.fracMask
	f.infBits = f.expMask
	f.quietBit = 1 << (frac - 1)
	f.maxFiniteBit = f.infBits - 1
	f.ref = newReference(f)
	return f
}

var (
	bf16 = func() *format {
		f := newFormat("bfloat16", 7, 127)
		f.narrow = func(x float32) uint16 { return uint16(BFloat16FromFloat32(x)) }
		f.widen = func(h uint16) float32 { return BFloat16(h).Float32() }
		f.stochastic = func(x float32, b uint64) uint16 { return uint16(BFloat16Stochastic(x, b)) }
		f.narrowSlice, f.widenSlice, f.stochSlice = NarrowBFloat16, WidenBFloat16, NarrowBFloat16Stochastic
		return f
	}()
	f16 = func() *format {
		f := newFormat("float16", 10, 15)
		f.narrow = func(x float32) uint16 { return uint16(Float16FromFloat32(x)) }
		f.widen = func(h uint16) float32 { return Float16(h).Float32() }
		f.stochastic = func(x float32, b uint64) uint16 { return uint16(Float16Stochastic(x, b)) }
		f.narrowSlice, f.widenSlice, f.stochSlice = NarrowFloat16, WidenFloat16, NarrowFloat16Stochastic
		return f
	}()
	formats = []*format{bf16, f16}
)

// refValue is the value of bit pattern h by the definition of the format (NaN for NaN patterns).
func (f *format) refValue(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h&f.expMask)>>f.frac, float64(h&f.fracMask)
	switch {
	case h&0x7fff == f.infBits:
		return math.Inf(int(sign))
	case h&f.expMask == f.expMask:
		return math.NaN()
	case e == 0:
		return sign * math.Ldexp(m, 1-f.bias-f.frac)
	}
	return sign * math.Ldexp(math.Ldexp(1, f.frac)+m, e-f.bias-f.frac)
}

func (f *format) isNaN(h uint16) bool { return h&f.expMask == f.expMask && h&f.fracMask != 0 }

// reference holds every non-negative finite value of a format in ascending order, found by
// sorting (not by assuming the bit order is monotone), followed by the overflow value
// 2^(emax+1): rounding with an unbounded exponent would give it, and IEEE then delivers Inf.
type reference struct {
	vals []float64
	bits []uint16
}

func newReference(f *format) *reference {
	r := &reference{}
	for h := 0; h < 0x8000; h++ {
		if v := f.refValue(uint16(h)); !math.IsNaN(v) && !math.IsInf(v, 0) {
			r.vals, r.bits = append(r.vals, v), append(r.bits, uint16(h))
		}
	}
	sort.Sort(r)
	for i := 1; i < len(r.vals); i++ {
		if !(r.vals[i-1] < r.vals[i]) {
			panic(fmt.Sprintf("%s: values not distinct at %d", f.name, i))
		}
	}
	emax := (int(f.expMask) >> f.frac) - 1 - f.bias
	r.vals, r.bits = append(r.vals, math.Ldexp(1, emax+1)), append(r.bits, f.infBits)
	return r
}

func (r *reference) Len() int           { return len(r.vals) }
func (r *reference) Less(i, j int) bool { return r.vals[i] < r.vals[j] }
func (r *reference) Swap(i, j int) {
	r.vals[i], r.vals[j] = r.vals[j], r.vals[i]
	r.bits[i], r.bits[j] = r.bits[j], r.bits[i]
}

// bracket returns the neighbours lo ≤ |x| ≤ hi of a finite non-NaN x (lo == hi when exact) as
// indexes into vals; for |x| at or beyond the overflow value both are the overflow entry.
func (r *reference) bracket(ax float64) (lo, hi int) {
	i := sort.SearchFloat64s(r.vals, ax)
	switch {
	case i == len(r.vals):
		return i - 1, i - 1
	case r.vals[i] == ax:
		return i, i
	}
	return i - 1, i
}

// nearest is round-to-nearest-even of the exact value x by comparison with the exact midpoint.
func (f *format) nearest(x float64) uint16 {
	var sign uint16
	if math.Signbit(x) {
		sign = 0x8000
	}
	ax := math.Abs(x)
	if math.IsInf(ax, 0) {
		return sign | f.infBits
	}
	r := f.ref
	lo, hi := r.bracket(ax)
	mid := (r.vals[lo] + r.vals[hi]) / 2 // exact: both have few significant bits
	switch {
	case ax < mid:
		return sign | r.bits[lo]
	case ax > mid || r.bits[lo]&1 == 1:
		return sign | r.bits[hi]
	}
	return sign | r.bits[lo]
}

// checkNarrow compares narrow with the reference on every input and returns the first faults.
func (f *format) checkNarrow(narrow func(float32) uint16, in []float32) error {
	var errs []error
	bad := 0
	for _, x := range in {
		got := narrow(x)
		var want uint16
		if xb := math.Float32bits(x); x != x {
			// NaN: same sign, quiet bit set, leading payload bits kept.
			want = uint16(xb>>16)&0x8000 | f.expMask | f.quietBit | uint16(xb>>(23-f.frac))&f.fracMask
		} else {
			want = f.nearest(float64(x))
		}
		if got != want {
			if bad++; bad <= 5 {
				errs = append(errs, fmt.Errorf("%s: narrow(%g = %#08x) = %#04x (%g), want %#04x (%g)",
					f.name, x, math.Float32bits(x), got, f.refValue(got), want, f.refValue(want)))
			}
		}
	}
	if bad > 5 {
		errs = append(errs, fmt.Errorf("%s: %d faults of %d inputs", f.name, bad, len(in)))
	}
	return errors.Join(errs...)
}

// boundaryInputs lists, with both signs, every finite 16-bit value and every midpoint between
// neighbours (the overflow value included) with their float32 neighbours up to 2 ulps away,
// and the float32 specials.
func (f *format) boundaryInputs() []float32 {
	r := f.ref
	in := []float32{0, float32(math.Inf(1)), math.MaxFloat32, math.SmallestNonzeroFloat32,
		math.Float32frombits(0x7fc00000), math.Float32frombits(0x7f800001), math.Float32frombits(0x7fbfffff),
		math.Float32frombits(0x7f802001), math.Float32frombits(0x7fffffff)}
	for i := 0; i+1 < len(r.vals); i++ {
		for _, c := range []float64{r.vals[i], (r.vals[i] + r.vals[i+1]) / 2} {
			x := float32(c)
			if float64(x) != c {
				panic(fmt.Sprintf("%s: %g is not a float32", f.name, c))
			}
			in = append(in, x)
			up, down := x, x
			for range 2 {
				up, down = math.Nextafter32(up, float32(math.Inf(1))), math.Nextafter32(down, 0)
				in = append(in, up, down)
			}
		}
	}
	for i, n := 0, len(in); i < n; i++ {
		in = append(in, -in[i])
	}
	return in
}

func randomInputs(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	in := make([]float32, n)
	for i := range in {
		in[i] = math.Float32frombits(r.Uint32())
	}
	return in
}

func randomCount(t *testing.T) int {
	if testing.Short() {
		return 200_000
	}
	return 3_000_000
}

func TestWidenExhaustive(t *testing.T) {
	for _, f := range formats {
		src := make([]uint16, 1<<16)
		for h := range src {
			src[h] = uint16(h)
		}
		dst := make([]float32, len(src))
		f.widenSlice(dst, src)
		for h := range 1 << 16 {
			got, want := f.widen(uint16(h)), f.refValue(uint16(h))
			gb := math.Float32bits(got)
			if gb != math.Float32bits(dst[h]) {
				t.Fatalf("%s: slice widen(%#04x) = %#08x, scalar %#08x", f.name, h, math.Float32bits(dst[h]), gb)
			}
			if f.isNaN(uint16(h)) {
				// NaN keeps sign and payload bit for bit.
				if w := uint32(h&0x8000)<<16 | 0x7f800000 | uint32(h&int(f.fracMask))<<(23-f.frac); gb != w {
					t.Fatalf("%s: widen(NaN %#04x) = %#08x, want %#08x", f.name, h, gb, w)
				}
				continue
			}
			if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
				t.Fatalf("%s: widen(%#04x) = %g, want %g", f.name, h, got, want)
			}
		}
	}
}

func TestRoundTripExhaustive(t *testing.T) {
	for _, f := range formats {
		for h := range 1 << 16 {
			x := f.widen(uint16(h))
			got := f.narrow(x)
			switch {
			case f.isNaN(uint16(h)):
				if !f.isNaN(got) || got&0x8000 != uint16(h)&0x8000 || got&f.quietBit == 0 {
					t.Fatalf("%s: narrow(widen(NaN %#04x)) = %#04x, want a quiet NaN of the same sign", f.name, h, got)
				}
			case got != uint16(h):
				t.Fatalf("%s: narrow(widen(%#04x)) = %#04x", f.name, h, got)
			}
		}
	}
}

func TestNarrowBoundaries(t *testing.T) {
	for _, f := range formats {
		in := f.boundaryInputs()
		if err := f.checkNarrow(f.narrow, in); err != nil {
			t.Error(err)
		}
		checkSliceMatches(t, f, in)
	}
}

func TestNarrowRandom(t *testing.T) {
	for i, f := range formats {
		in := randomInputs(randomCount(t), uint64(i+1))
		if err := f.checkNarrow(f.narrow, in); err != nil {
			t.Error(err)
		}
		checkSliceMatches(t, f, in)
	}
}

func checkSliceMatches(t *testing.T, f *format, in []float32) {
	t.Helper()
	dst := make([]uint16, len(in))
	f.narrowSlice(dst, in)
	for i, x := range in {
		if w := f.narrow(x); dst[i] != w {
			t.Fatalf("%s: slice narrow(%#08x) = %#04x, scalar %#04x", f.name, math.Float32bits(x), dst[i], w)
		}
	}
}

func TestSliceLengthMismatchPanics(t *testing.T) {
	for _, f := range formats {
		for name, call := range map[string]func(){
			"widen":      func() { f.widenSlice(make([]float32, 2), make([]uint16, 3)) },
			"narrow":     func() { f.narrowSlice(make([]uint16, 3), make([]float32, 2)) },
			"stochastic": func() { f.stochSlice(make([]uint16, 1), make([]float32, 2), 1, 0) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s %s: no panic on mismatched lengths", f.name, name)
					}
				}()
				call()
			}()
		}
	}
}

// Broken conversions that the checks above must reject.

func (f *format) truncating(x float32) uint16 {
	h := f.narrow(x)
	if !f.isNaN(h) && math.Abs(f.refValue(h)) > math.Abs(float64(x)) {
		h-- // one step toward zero: round toward zero instead of to nearest
	}
	return h
}

func (f *format) flushing(x float32) uint16 {
	h := f.narrow(x)
	if h&f.expMask == 0 {
		return h & 0x8000
	}
	return h
}

func (f *format) nanToInf(x float32) uint16 {
	h := f.narrow(x)
	if f.isNaN(h) {
		return h&0x8000 | f.infBits
	}
	return h
}

func TestNarrowChecksCatchBrokenConversions(t *testing.T) {
	for _, f := range formats {
		in := f.boundaryInputs()
		for name, broken := range map[string]func(float32) uint16{
			"truncating": f.truncating, "subnormal-flushing": f.flushing, "NaN-to-Inf": f.nanToInf,
		} {
			if f.checkNarrow(broken, in) == nil {
				t.Errorf("%s: the boundary check passes a %s conversion", f.name, name)
			}
			if f.checkNarrow(broken, randomInputs(200_000, 7)) == nil {
				t.Errorf("%s: the random check passes a %s conversion", f.name, name)
			}
		}
	}
}
