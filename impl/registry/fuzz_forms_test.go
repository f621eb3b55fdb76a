package registry_test

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/gradnorm"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/optim"
	"github.com/embgrad/embgrad/reference"
)

// The fuzz targets of the newer forms. Each decodes bytes (missing bytes
// read as zero) into a call, valid or not, and checks every registered
// kernel of the form through the suite engine's guarded call (no write
// outside an output, no input changed, no panic): invalid input, as the
// form's validator or oracle says, must be rejected with an error wrapping
// ErrInvalidInput and every output unchanged; valid input must meet the
// float64 oracle's bound and give the same bits, NaN payloads aside, in
// every kernel (each
// form's kernels promise the baseline's bits: bagsharded bagloop's,
// half16simd half16loop's, every Stepper Update's, fused and normpar the
// same for every worker count and the serial one's).
//
//	go test -run '^$' -fuzz '^FuzzBag$' -fuzztime 60s ./impl/registry
//
// (likewise FuzzHalf, FuzzStep, FuzzNorm).

// bytesReader hands out the fuzz input a byte at a time, zeros past its end.
type bytesReader []byte

func (r *bytesReader) next() byte {
	if len(*r) == 0 {
		return 0
	}
	b := (*r)[0]
	*r = (*r)[1:]
	return b
}

// value is a small dyadic (b−64)/16 for a byte b < 128, else the next four
// bytes' float32 bits (NaN, ±Inf, subnormals, huge).
func (r *bytesReader) value() float32 {
	b := r.next()
	if b < 128 {
		return float32(int(b)-64) / 16
	}
	var w [4]byte
	for i := range w {
		w[i] = r.next()
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(w[:]))
}

func (r *bytesReader) values(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.value()
	}
	return x
}

// id is b mod (V+2) − 1, so −1 and V occur.
func (r *bytesReader) id(V int) int32 { return int32(int(r.next())%(V+2)) - 1 }

func (r *bytesReader) ids(V, n int) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = r.id(V)
	}
	return ids
}

// bigRows is the table size of a big call (a V byte ≥ 128): enough rows
// and positions (with D ≥ 16) that the parallel kernels take their
// parallel paths (impl/step and impl/fused from 2¹⁵ float32 operations,
// impl/bagsharded from 2¹⁴), which small fuzz inputs never reach.
const bigRows = 2048

// bigIDs are n ≥ V ids of a V-row table in a salted pattern: every row
// named once in the first V positions, then a stride with the low rows
// more often (a hot head), all in range.
func bigIDs(V, n int, salt byte) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		x := (i + int(salt)) % V
		if i >= V {
			x = (i*7 + int(salt)) % V
			if i%3 == 0 {
				x %= 16
			}
		}
		ids[i] = int32(x)
	}
	return ids
}

// bigValues are n small dyadic values in a salted pattern, for the big
// calls whose buffers the fuzz input cannot fill.
func bigValues(n int, salt byte) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((i*37+int(salt))%129-64) / 16
	}
	return x
}

// reporter is what the checks report to: a *testing.T, or a recorder in
// the self-tests.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// rejected requires a wrapped ErrInvalidInput (not a violation) and the
// outputs bit for bit as they were.
func rejected(t reporter, name string, err error, unchanged bool) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: accepted invalid input", name)
	case !errors.Is(err, embgrad.ErrInvalidInput):
		t.Errorf("%s: %v (want an error wrapping ErrInvalidInput)", name, err)
	case !unchanged:
		t.Errorf("%s: an output changed on error: %v", name, err)
	}
}

func sameBits32(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// sameResult32 is sameBits32 except that every NaN equals every NaN: Go
// leaves NaN payloads unspecified (an x86 add returns one operand's, and
// the compiler may swap a commutative add's operands), so the kernels'
// bitwise promise excludes them, as internal/suite's comparisons do.
func sameResult32(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) || x != x && y != y })
}

// sameResult16 is sameResult32 for 16-bit values of format f.
func sameResult16(f embgrad.Format, a, b []uint16) bool {
	nan := func(x uint16) bool {
		if f == embgrad.Float16 {
			return x&0x7c00 == 0x7c00 && x&0x03ff != 0
		}
		return x&0x7f80 == 0x7f80 && x&0x007f != 0
	}
	return slices.EqualFunc(a, b, func(x, y uint16) bool { return x == y || nan(x) && nan(y) })
}

func sameResultState(a, b optim.State) bool {
	return a.Step == b.Step && sameResult32(a.Momentum1, b.Momentum1) && sameResult32(a.Momentum2, b.Momentum2)
}

func sameBits64(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// decodeBag maps bytes to a bag call.
//
//	flags: bits 0-1 mode (3: an unknown mode), 4 padding, 8 scaling,
//	       16 include_last_offset, 32 weights, 64 a corrupted offset,
//	       128 a corrupted max index or a stray dw / maxIndices
//	V < 16, D < 24, N < 48 ids (−1 and V occur), B < 8 bags split at
//	sorted cut points; E, dst, gradOut, weights as values
func decodeBag(data []byte) (dst, dw []float32, a embgrad.BagArgs) {
	r := bytesReader(data)
	flags := r.next()
	vb := r.next()
	a.V, a.D = int(vb%16), int(r.next()%24)
	big := vb >= 128
	if big {
		a.V, a.D = bigRows/8+int(vb&127), 16+a.D%8
		a.IDs = bigIDs(a.V, 4*a.V, r.next())
		r.next()
	} else {
		a.IDs = r.ids(a.V, int(r.next()%48))
	}
	B := int(r.next() % 8)
	a.Opt.Mode = embgrad.BagMode(flags & 3)
	if flags&4 != 0 {
		a.Opt.Options = a.Opt.WithPadding(r.id(a.V))
	}
	a.Opt.ScaleGradByFreq = flags&8 != 0
	a.Opt.IncludeLastOffset = flags&16 != 0
	if B > 0 || a.Opt.IncludeLastOffset {
		a.Offsets = make([]int32, 0, B+1)
		a.Offsets = append(a.Offsets, 0)
		for range B - 1 {
			a.Offsets = append(a.Offsets, int32(int(r.next())%(len(a.IDs)+1)))
		}
		slices.Sort(a.Offsets)
		if a.Opt.IncludeLastOffset {
			a.Offsets = append(a.Offsets, int32(len(a.IDs)))
		}
	}
	if flags&64 != 0 && len(a.Offsets) > 0 {
		a.Offsets[int(r.next())%len(a.Offsets)] += int32(r.next()%5) - 2
	}
	n := max(a.Bags(), 0)
	vals := r.values
	if big {
		vals = func(n int) []float32 { return bigValues(n, r.next()) }
	}
	a.E = vals(a.V * a.D)
	dst = vals(a.V * a.D)
	a.GradOut = vals(n * a.D)
	if flags&32 != 0 {
		a.Weights = vals(len(a.IDs))
		dw = make([]float32, len(a.IDs))
		for i := range dw {
			dw[i] = 99 // shows that dw is overwritten
		}
	} else {
		a.E = nil
	}
	if a.Opt.Mode == embgrad.BagMax {
		a.MaxIndices = make([]int32, n*a.D)
		if a.E == nil {
			a.E = make([]float32, a.V*a.D)
			copy(a.E, dst) // some table to take the argmax of
		}
		out := make([]float32, n*a.D)
		// Invalid bags leave the indices zero: ValidateBag rejects the call
		// on its own grounds.
		_ = embgrad.BagForward(out, a.MaxIndices, a.E, a.V, a.D, a.IDs, a.Offsets, nil, a.Opt)
		// E stays: the contract ignores it without weights, and a
		// kernel must not read a gradient from it.
	}
	if flags&128 != 0 {
		switch {
		case len(a.MaxIndices) > 0:
			a.MaxIndices[int(r.next())%len(a.MaxIndices)] = r.id(a.V) - 1
		case a.Weights == nil:
			dw = []float32{1}
		default:
			a.MaxIndices = []int32{}
		}
	}
	return dst, dw, a
}

// bagSeeds are FuzzBag's seed corpus (and its self-test's inputs).
var bagSeeds = [][]byte{
	{0, 4, 3, 5, 1, 2, 3, 2, 1, 3, 2},                     // sum, 5 ids in 2 bags
	{1 | 4 | 8, 5, 9, 9, 1, 2, 3, 4, 5, 6, 1, 2, 3, 7, 4}, // mean, padding, scaled
	{2 | 16, 6, 17, 12, 0, 1, 2, 3, 4, 5, 6, 7, 3, 4, 8},  // max, include_last_offset
	{32, 4, 5, 6, 1, 2, 3, 4, 5, 6, 3, 2, 4},              // weighted
	{64, 4, 3, 5, 1, 2, 3, 2, 1, 3, 2, 0, 1},              // a corrupted offset
	{2 | 128, 4, 3, 5, 1, 2, 3, 2, 1, 3, 2, 0},            // a corrupted max index
	{3, 4, 3, 5, 1, 2, 3, 2, 1, 3},                        // unknown mode
	{0, 128, 0, 1, 0, 5, 30, 200, 100, 50, 1, 2, 3},       // sum, big: the parallel path
	{2, 129, 3, 2, 0, 4, 10, 20, 30, 4, 5, 6},             // max, big
	{32 | 8, 130, 1, 3, 0, 3, 40, 80, 7, 8, 9, 10},        // weighted, scaled, big
	{2, 4, 2, 6, 1, 2, 3, 1, 2, 4, 2, 3, 64, 64, 64, 64, 64, 64, 64, 64, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83}, // max, valid, all of E tied
	{2, 4, 2, 6, 1, 2, 3, 1, 2, 4, 2, 0, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83}, // max, valid, bag 0 empty
}

func FuzzBag(f *testing.F) {
	for _, b := range bagSeeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkBag(t, registry.Bag(), true, data) })
}

// checkBag is FuzzBag's check of one input on the kernels ks; bitwise
// also requires every kernel to give the first one's bits.
func checkBag(t reporter, ks []embgrad.BagKernel, bitwise bool, data []byte) {
	dst, dw, a := decodeBag(data)
	want, oerr := reference.BagOracle(dst, dw, a)
	var base, baseDW []float32
	for _, k := range ks {
		for _, scratch := range []bool{false, true} {
			name := k.Name()
			call := k.BagBackward
			if scratch {
				name += " (scratch)"
				call = func(dst, dw []float32, a embgrad.BagArgs) error { return embgrad.BagScratch(k, dst, dw, a) }
			}
			got, gotDW, err := suite.Bag(call, dst, dw, a)
			if oerr != nil {
				rejected(t, name, err, sameBits32(got, dst) && sameBits32(gotDW, dw))
				continue
			}
			if err != nil {
				t.Errorf("%s: %v on valid input %+v", name, err, a)
				return
			}
			if scratch {
				continue // from a zero dst: checked bitwise against the baseline below
			}
			if err := want.Check(got, gotDW); err != nil {
				t.Errorf("%s: %v\nargs %+v", name, err, a)
			}
			if base == nil {
				base, baseDW = got, gotDW
			} else if bitwise && (!sameResult32(got, base) || !sameResult32(gotDW, baseDW)) {
				t.Errorf("%s: not the bits of %s", name, ks[0].Name())
			}
		}
	}
	if oerr != nil || !bitwise {
		return
	}
	// Scratch: every kernel's from-scratch result is the baseline's
	// BagBackward into a zero dst.
	zero := make([]float32, len(dst))
	ref, refDW, _ := suite.Bag(ks[0].BagBackward, zero, dw, a)
	for _, k := range ks {
		got, gotDW, err := suite.Bag(func(dst, dw []float32, a embgrad.BagArgs) error { return embgrad.BagScratch(k, dst, dw, a) }, dst, dw, a)
		if err != nil || !sameResult32(got, ref) || !sameResult32(gotDW, refDW) {
			t.Errorf("%s (scratch): err %v, or not the bits of BagBackward into a zero dst", k.Name(), err)
		}
	}
}

// decodeHalf maps bytes to a 16-bit call.
//
//	flags: 1 float16 (else bfloat16), 2 a 16-bit dst, 4 stochastic,
//	       8 padding, 16 scaling, 32 an unknown format, 64 an unknown
//	       rounding, 128 wrong len(gradOut)
//	V < 24, D < 40 (the SIMD blocks of 16 and their tails), N < 48 ids;
//	gradOut and dst as raw 16-bit patterns (NaN, ±Inf, subnormals), two
//	bytes each
func decodeHalf(data []byte) (dst32 []float32, dst16 []uint16, V, D int, ids []int32, g []uint16, opt embgrad.HalfOptions) {
	r := bytesReader(data)
	flags := r.next()
	V, D = int(r.next()%24), int(r.next()%40)
	ids = r.ids(V, int(r.next()%48))
	opt.Format = embgrad.BFloat16
	if flags&1 != 0 {
		opt.Format = embgrad.Float16
	}
	if flags&4 != 0 {
		opt.Rounding = embgrad.Stochastic
		opt.Seed = uint64(r.next())
	}
	if flags&8 != 0 {
		opt.Options = opt.WithPadding(r.id(V))
	}
	opt.ScaleGradByFreq = flags&16 != 0
	if flags&32 != 0 {
		opt.Format = embgrad.Format(r.next() % 4 * 3) // 0, 3, 6, 9
	}
	if flags&64 != 0 {
		opt.Rounding = embgrad.Rounding(2 + r.next()%3)
	}
	word := func() uint16 { lo := r.next(); return uint16(lo) | uint16(r.next())<<8 }
	g = make([]uint16, len(ids)*D)
	for i := range g {
		g[i] = word()
	}
	if flags&128 != 0 {
		g = append(g, 0)
	}
	if flags&2 != 0 {
		dst16 = make([]uint16, V*D)
		for i := range dst16 {
			dst16[i] = word()
		}
	} else {
		dst32 = r.values(V * D)
	}
	return dst32, dst16, V, D, ids, g, opt
}

// halfSeeds are FuzzHalf's seed corpus (and its self-test's inputs).
var halfSeeds = [][]byte{
	{0, 4, 3, 3, 1, 2, 1, 0x80, 0x3f, 0x00, 0x40},      // bf16, float32 dst
	{1 | 2, 4, 17, 3, 1, 2, 1, 0x00, 0x3c, 0xff, 0x7b}, // f16, 16-bit dst, D = 17
	{2 | 4 | 8 | 16, 5, 33, 6, 1, 2, 3, 2, 2, 1, 9, 7}, // stochastic, padding, scaled
	{4, 4, 3, 3, 1, 2, 1},                              // stochastic into float32: invalid
	{32, 4, 3, 3, 1, 2, 1, 0},                          // unknown format
	{2 | 64, 4, 3, 3, 1, 2, 1, 0},                      // unknown rounding
	{2, 3, 3, 8, 1, 1, 1, 1, 1, 1, 1, 1, 0x80, 0x3f, 0x80, 0x3f, 0x80, 0x3f, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b, 0x80, 0x3b}, // bf16 dst: 1 + 7 half-ulps
	{1 | 2, 2, 1, 2, 1, 1, 0x00, 0x3c, 0x00, 0x12}, // f16 dst: 1 + ¾ ulp rounds up
	{1 | 2, 2, 1, 1, 1, 0x00, 0x7e},                // f16 dst: NaN
	{1 | 2, 2, 1, 1, 1, 0x01, 0x00},                // f16 dst: the smallest subnormal
}

func FuzzHalf(f *testing.F) {
	for _, b := range halfSeeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkHalf(t, registry.Half(), true, data) })
}

// checkHalf is FuzzHalf's check of one input on the kernels ks; bitwise
// also requires every kernel to give the first one's bits.
func checkHalf(t reporter, ks []registry.HalfKernel, bitwise bool, data []byte) {
	dst32, dst16, V, D, ids, g, opt := decodeHalf(data)
	if dst16 != nil {
		want, oerr := reference.Half16Oracle(dst16, V, D, ids, g, opt)
		var base []uint16
		for _, k := range ks {
			got, err := suite.Half16(k, dst16, V, D, ids, g, opt)
			switch {
			case oerr != nil:
				rejected(t, k.Name(), err, slices.Equal(got, dst16))
			case err != nil:
				t.Errorf("%s: %v on valid input", k.Name(), err)
				return
			default:
				if err := want.Check(got); err != nil {
					t.Errorf("%s: %v", k.Name(), err)
				}
				if base == nil {
					base = got
				} else if bitwise && !sameResult16(opt.Format, got, base) {
					t.Errorf("%s: not the bits of %s", k.Name(), ks[0].Name())
				}
			}
		}
		return
	}
	want, oerr := reference.HalfOracle(dst32, V, D, ids, g, opt)
	var base []float32
	for _, k := range ks {
		got, err := suite.Half(k, dst32, V, D, ids, g, opt)
		switch {
		case oerr != nil:
			rejected(t, k.Name(), err, sameBits32(got, dst32))
		case err != nil:
			t.Errorf("%s: %v on valid input", k.Name(), err)
			return
		default:
			if err := want.Check(got); err != nil {
				t.Errorf("%s: %v", k.Name(), err)
			}
			if base == nil {
				base = got
			} else if bitwise && !sameResult32(got, base) {
				t.Errorf("%s: not the bits of %s", k.Name(), ks[0].Name())
			}
		}
	}
}

// hyper are the hyper-parameters a step's bytes pick from: valid ones and
// every kind of hostile one (NaN, ±Inf, negative, 0 where > 0 is needed,
// 1 for a β).
var hyper = []float32{0.5, 0.1, 0, 1e-8, 0.9, 0.999, 1, -0.25, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30}

// decodeStep maps bytes to an optimizer and a step's inputs.
//
//	flags: bits 0-1 optimizer (0 sgd, 1 adagrad, 2 adam, 3 nil),
//	       4 padding, 8 scaling, 16 a state buffer of a wrong length,
//	       32 swap two rows of the sparse gradient, 64 U past len(rows),
//	       128 wrong len(gradOut)
//	then the hyper-parameters (an index into hyper each), V < 16, D < 24,
//	N < 48 ids, Step, then gradOut, w and the state as values
func decodeStep(data []byte) (o optim.Optimizer, st optim.State, w []float32, V, D int, ids []int32, g []float32, opt embgrad.Options, flags byte, r *bytesReader) {
	br := bytesReader(data)
	r = &br
	flags = r.next()
	h := func() float32 { return hyper[int(r.next())%len(hyper)] }
	switch flags & 3 {
	case 0:
		o = optim.SGD{LR: h(), WeightDecay: h()}
	case 1:
		o = optim.Adagrad{LR: h(), Eps: h(), WeightDecay: h(), Decoupled: r.next()&1 != 0}
	case 2:
		o = optim.Adam{LR: h(), Beta1: h(), Beta2: h(), Eps: h()}
	}
	vb := r.next()
	V, D = int(vb%16), int(r.next()%24)
	big := vb >= 128
	if big {
		V, D = bigRows+int(vb&127), 16+D%8
		ids = bigIDs(V, 2*V, r.next())
		r.next()
	} else {
		ids = r.ids(V, int(r.next()%48))
	}
	step := int64(r.next()) - 8 // negative steps occur
	if flags&4 != 0 {
		opt = opt.WithPadding(r.id(V))
	}
	opt.ScaleGradByFreq = flags&8 != 0
	if big {
		g = bigValues(len(ids)*D, r.next())
	} else {
		g = r.values(len(ids) * D)
	}
	if flags&128 != 0 {
		g = append(g, 1)
	}
	if big {
		w = bigValues(V*D, r.next())
	} else {
		w = r.values(V * D)
	}
	if o != nil {
		st = o.NewState(V, D)
	}
	for _, m := range [][]float32{st.Momentum1, st.Momentum2} {
		for i := range m {
			m[i] = float32(math.Abs(float64(r.value()))) // moments are ≥ 0 in any reachable state
		}
	}
	st.Step = step
	if flags&16 != 0 {
		st.Momentum1 = append(st.Momentum1, 1)
	}
	return o, st, w, V, D, ids, g, opt, flags, r
}

// stepSeeds are FuzzStep's seed corpus (and its self-test's inputs).
var stepSeeds = [][]byte{
	// flags, hyper indices, V, D, N, Step, ids...
	{0, 0, 1, 4, 3, 3, 9, 1, 2, 1},                // sgd
	{1, 0, 3, 1, 0, 4, 5, 6, 9, 1, 2, 1, 5, 4, 3}, // adagrad, L2
	{2, 0, 4, 5, 3, 4, 5, 6, 9, 1, 2, 1, 5, 4, 3}, // adam
	{2 | 4 | 8, 0, 4, 5, 3, 4, 5, 6, 9, 1, 2, 1, 5, 1},
	{2, 0, 6, 5, 3, 4, 5, 6, 9, 1, 2, 1},   // β1 = 1: invalid
	{1, 0, 2, 1, 0, 4, 5, 6, 9, 1, 2, 1},   // eps = 0: invalid
	{0 | 32, 0, 1, 6, 3, 4, 9, 1, 2, 4, 1}, // rows swapped: invalid
	{3, 4, 3, 3, 9, 1, 2, 1},               // nil optimizer
	{2, 0, 4, 5, 3, 4, 3, 2, 1, 2, 9, 70, 71, 72, 73, 74, 75, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61}, // adam, valid, rows 2 and 3 untouched, Step 1
	{4, 0, 1, 4, 3, 3, 1, 2, 2, 9, 2, 70, 71, 72, 73, 74, 75, 76, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91},                                                                                     // sgd, valid, padding id 1
	{0, 0, 1, 4, 3, 1, 1, 9, 200, 0, 0, 0xc0, 0x7f, 70, 71, 80, 81, 82, 83},                                                                                                                                   // sgd, valid, a NaN gradient
	{1, 2, 3, 1, 1, 4, 3, 2, 1, 2, 9, 70, 71, 72, 73, 74, 75, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 60, 61, 62, 63},                                                                                 // adagrad, LR 0, decoupled decay: no change
}

func FuzzStep(f *testing.F) {
	for _, b := range stepSeeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkStep(t, registry.FusedSteps(), registry.Steppers(), true, data) })
}

// checkStep is FuzzStep's check of one input on the kernels ks; bitwise
// also requires every kernel to give the first one's bits.
func checkStep(t reporter, fks []optim.Fused, sks []optim.Stepper, bitwise bool, data []byte) {
	o, st, w, V, D, ids, g, opt, flags, _ := decodeStep(data)
	// The fused form.
	want, oerr := reference.StepFused(o, w, st, V, D, ids, g, opt)
	var base []float32
	var baseSt optim.State
	for _, k := range fks {
		gw, gst, err := suite.Fused(k, w, st, V, D, ids, g, opt, o)
		if oerr != nil {
			rejected(t, k.Name(), err, sameBits32(gw, w) && sameState(gst, st))
			continue
		}
		if err != nil {
			t.Errorf("%s: %v on valid input (%s)", k.Name(), err, optString(o))
			return
		}
		if err := want.Check(gw, gst); err != nil {
			t.Errorf("%s: %v (%s)", k.Name(), err, optString(o))
		}
		if base == nil {
			base, baseSt = gw, gst
		} else if bitwise && (!sameResult32(gw, base) || !sameResultState(gst, baseSt)) {
			t.Errorf("%s: not the bits of %s", k.Name(), fks[0].Name())
		}
	}
	// The sparse-gradient form, on the coalesced gradient of the same
	// call when its ids are valid, else on ids taken as rows.
	var rows []int32
	var values []float32
	if embgrad.Validate(make([]float32, V*D), V, D, ids, g, opt) == nil {
		rows, values = suite.Coalesce(V, D, ids, g, opt)
	} else {
		rows, values = ids, g
	}
	U := len(rows)
	if flags&32 != 0 && U >= 2 {
		rows = slices.Clone(rows)
		rows[0], rows[1] = rows[1], rows[0]
	}
	if flags&64 != 0 {
		U++
	}
	swant, serr := reference.StepSparse(o, w, st, V, D, rows, values, U)
	base = nil
	for _, k := range sks {
		gw, gst, err := suite.Step(k, w, st, V, D, rows, values, U, o)
		if serr != nil {
			rejected(t, k.Name(), err, sameBits32(gw, w) && sameState(gst, st))
			continue
		}
		if err != nil {
			t.Errorf("%s: %v on valid input (%s)", k.Name(), err, optString(o))
			return
		}
		if err := swant.Check(gw, gst); err != nil {
			t.Errorf("%s: %v (%s)", k.Name(), err, optString(o))
		}
		if base == nil {
			base, baseSt = gw, gst
		} else if bitwise && (!sameResult32(gw, base) || !sameResultState(gst, baseSt)) {
			t.Errorf("%s: not the bits of %s", k.Name(), sks[0].Name())
		}
	}
}

func sameState(a, b optim.State) bool {
	return a.Step == b.Step && sameBits32(a.Momentum1, b.Momentum1) && sameBits32(a.Momentum2, b.Momentum2)
}

func optString(o optim.Optimizer) string {
	if o == nil {
		return "nil optimizer"
	}
	return suite.OptimizerString(o)
}

// decodeNorm maps bytes to gradients and the norm arguments.
//
//	flags: 1 a sparse second tensor, 2 its rows uncoalesced, 4 tensors
//	       sharing memory, 8 error_if_nonfinite, 16 wrong len(Values),
//	       32 a wrong-length RowNorms dst, 64 a sparse row out of range
//	p and max_norm: an index each into {2, +Inf, 0, NaN, −1, 1, −Inf}
//	and {1, 0, 1e-3, 1e30, NaN, −1, +Inf}; V < 24, D < 24, values
func decodeNorm(data []byte) (grads []gradnorm.Grad, dst []float64, p, maxNorm float64, nonfinite bool) {
	r := bytesReader(data)
	flags := r.next()
	ps := []float64{2, math.Inf(1), 0, math.NaN(), -1, 1, math.Inf(-1)}
	ms := []float64{1, 0, 1e-3, 1e30, math.NaN(), -1, math.Inf(1)}
	p, maxNorm = ps[int(r.next())%len(ps)], ms[int(r.next())%len(ms)]
	nonfinite = flags&8 != 0
	V, D := int(r.next()%24), int(r.next()%24)
	grads = append(grads, gradnorm.Dense(r.values(V*D), V, D))
	if flags&1 != 0 {
		V2 := int(r.next() % 24)
		var rows []int32
		for v := range V2 {
			if r.next()&1 != 0 {
				rows = append(rows, int32(v))
			}
		}
		if flags&2 != 0 && len(rows) >= 2 {
			rows[1] = rows[0]
		}
		if flags&64 != 0 && len(rows) > 0 {
			rows[len(rows)-1] = int32(V2)
		}
		grads = append(grads, gradnorm.SparseGrad(rows, r.values(len(rows)*D), V2, D))
	}
	if flags&16 != 0 {
		grads[0].Values = append(grads[0].Values, 1)
	}
	if flags&4 != 0 && len(grads[0].Values) > 0 {
		grads = append(grads, gradnorm.Dense(grads[0].Values[:1], 1, 1))
	}
	n := V
	if flags&32 != 0 {
		n++
	}
	dst = make([]float64, n)
	for i := range dst {
		dst[i] = -1
	}
	return grads, dst, p, maxNorm, nonfinite
}

// normSeeds are FuzzNorm's seed corpus (and its self-test's inputs).
var normSeeds = [][]byte{
	{0, 0, 0, 4, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
	{1, 1, 2, 3, 2, 1, 2, 3, 4, 5, 6, 5, 1, 0, 1, 1, 2, 3},
	{1 | 2, 0, 0, 3, 2, 1, 2, 3, 4, 5, 6, 5, 1, 1, 1}, // uncoalesced
	{4, 0, 0, 3, 2, 1, 2, 3, 4, 5, 6},                 // shared memory
	{8, 0, 0, 2, 2, 1, 128, 0, 0, 0xc0, 0x7f, 3, 4},   // NaN, error_if_nonfinite
	{0, 3, 4, 2, 2, 1, 2, 3, 4},                       // p = NaN, max_norm NaN
	{0, 0, 3, 2, 2, 70, 71, 72, 73},                   // total far below max_norm: no scaling
	{8, 0, 0, 1, 2, 200, 0, 0, 0x80, 0x7f, 70},        // +Inf with error_if_nonfinite
}

func FuzzNorm(f *testing.F) {
	for _, b := range normSeeds {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkNorm(t, registry.Norms(), true, data) })
}

// checkNorm is FuzzNorm's check of one input on the kernels ks; bitwise
// also requires every kernel to give the first one's bits.
func checkNorm(t reporter, ks []gradnorm.Impl, bitwise bool, data []byte) {
	grads, dst, p, maxNorm, nonfinite := decodeNorm(data)
	// RowNorms of the first tensor.
	rerr := gradnorm.ValidateRowNorms(dst, grads[0])
	var baseRows []float64
	for _, k := range ks {
		got, err := suite.RowNorms(k, dst, grads[0])
		if rerr != nil {
			rejected(t, k.Name()+" RowNorms", err, sameBits64(got, dst))
			continue
		}
		if err != nil {
			t.Errorf("%s RowNorms: %v on valid input", k.Name(), err)
			return
		}
		if baseRows == nil {
			baseRows = got
		} else if bitwise && !sameBits64(got, baseRows) {
			t.Errorf("%s RowNorms: not the bits of %s", k.Name(), ks[0].Name())
		}
	}
	// TotalNorm and ClipGradNorm.
	cerr := gradnorm.ValidateClip(grads, maxNorm, p)
	var baseTotal float64
	var baseGrads []gradnorm.Grad
	for i, k := range ks {
		if cerr != nil {
			// Raw calls: the guarded ones copy each buffer, which would
			// undo tensors sharing memory.
			before := cloneGrads(grads)
			_, terr := k.TotalNorm(grads, p)
			if math.IsNaN(maxNorm) || math.IsInf(maxNorm, 0) || maxNorm < 0 {
				if terr != nil && !errors.Is(terr, embgrad.ErrInvalidInput) {
					t.Errorf("%s TotalNorm: %v", k.Name(), terr)
				}
			} else {
				rejected(t, k.Name()+" TotalNorm", terr, sameGrads(grads, before))
			}
			_, err := k.ClipGradNorm(grads, maxNorm, p, nonfinite)
			rejected(t, k.Name()+" ClipGradNorm", err, sameGrads(grads, before))
			continue
		}
		total, terr := suite.TotalNorm(k, grads, p)
		gs, ctotal, err := suite.Clip(k, grads, maxNorm, p, nonfinite)
		if terr != nil {
			t.Errorf("%s TotalNorm: %v on valid input", k.Name(), terr)
			return
		}
		var nf *gradnorm.NonfiniteError
		if err != nil && !(nonfinite && errors.As(err, &nf)) {
			t.Errorf("%s ClipGradNorm: %v on valid input", k.Name(), err)
			return
		}
		if err != nil && !sameGrads(gs, grads) {
			t.Errorf("%s ClipGradNorm: %v, but the gradients changed", k.Name(), err)
		}
		if math.Float64bits(ctotal) != math.Float64bits(total) {
			t.Errorf("%s: ClipGradNorm's total %v is not TotalNorm's %v", k.Name(), ctotal, total)
		}
		// The total against the float64 oracle (relative n·2⁻⁵², exact
		// for p = ∞), and the clip against its definition: each element
		// times float32(ClipCoef(maxNorm, total)), or untouched when that
		// is 1 or error_if_nonfinite refused a non-finite total.
		n := 0
		for _, g := range grads {
			n += len(g.Values)
		}
		want := reference.TotalNorm64(grads, p)
		if total != want && !(math.IsNaN(want) && math.IsNaN(total)) && !(math.Abs(total-want) <= float64(n)*0x1p-52*want) {
			t.Errorf("%s TotalNorm: %v, want %v within relative %d·2⁻⁵²", k.Name(), total, want, n)
		}
		bad := math.IsNaN(total) || math.IsInf(total, 0)
		if nonfinite && bad && err == nil {
			t.Errorf("%s ClipGradNorm: total %v with error_if_nonfinite, no error", k.Name(), total)
		}
		if err == nil {
			c := float32(gradnorm.ClipCoef(maxNorm, total))
			for ti, g := range grads {
				for j, x := range g.Values {
					w := x
					if c != 1 {
						w = x * c
					}
					if y := gs[ti].Values[j]; math.Float32bits(y) != math.Float32bits(w) && !(y != y && w != w) {
						t.Errorf("%s ClipGradNorm: tensor %d value %d = %v, want %v·%v = %v", k.Name(), ti, j, y, x, c, w)
						return
					}
				}
			}
		}
		if i == 0 {
			baseTotal, baseGrads = total, gs
			continue
		}
		if bitwise && (math.Float64bits(total) != math.Float64bits(baseTotal) || !sameGrads(gs, baseGrads)) {
			t.Errorf("%s: total %v or clipped gradients not the bits of %s (total %v)", k.Name(), total, ks[0].Name(), baseTotal)
		}
	}
}

func sameGrads(a, b []gradnorm.Grad) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameBits32(a[i].Values, b[i].Values) || !slices.Equal(a[i].Rows, b[i].Rows) {
			return false
		}
	}
	return true
}

func cloneGrads(gs []gradnorm.Grad) []gradnorm.Grad {
	out := slices.Clone(gs)
	for i := range out {
		out[i].Values, out[i].Rows = slices.Clone(gs[i].Values), slices.Clone(gs[i].Rows)
	}
	return out
}
