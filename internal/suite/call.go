package suite

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/embgrad/embgrad"
)

// GuardLen is the length of the guard bands around every buffer a suite
// hands a kernel (gonum's guardVector idea). Float bands hold a signalling
// NaN, which arithmetic quiets, so a stray store and even a stray += change
// its bits; int32 bands hold guardID.
const (
	GuardLen  = 16
	guardBits = 0x7fa05afe
	guardID   = -0x5afe
	// guard16 is the band of a 16-bit buffer: a float16 signalling NaN
	// (a bfloat16 near 1.8e37), a pattern no correct rounding produces
	// from the data suites use.
	guard16 = 0x7d5a
)

// A Buf is one buffer of a guarded call: a copy of the caller's data as a
// window into a larger allocation between guard bands. An output may be
// written within its window only; an input not at all (bands included).
// The window's capacity reaches into the trailing band, so a kernel that
// writes past its length within its capacity is caught too.
type Buf struct {
	name string
	out  bool
	f32  []float32 // the allocation, when float32
	i32  []int32   // the allocation, when int32
	f64  []float64 // the allocation, when float64 (norms, see Out64)
	u16  []uint16  // the allocation, when 16-bit (bfloat16 or float16 bits)
	fwas []float32
	iwas []int32
	dwas []float64
	uwas []uint16
	lo   int // the window is [lo, lo+n) of the allocation
	n    int
	// view is set on a buffer that lives in another's memory (an
	// overlapping input): it is checked as part of that buffer.
	view bool
}

// Out returns an output buffer holding a copy of x.
func Out(name string, x []float32) *Buf { return float(name, x, true) }

// In returns a read-only input buffer holding a copy of x.
func In(name string, x []float32) *Buf { return float(name, x, false) }

// InIDs returns a read-only int32 input buffer holding a copy of x.
func InIDs(name string, x []int32) *Buf {
	buf := make([]int32, len(x)+2*GuardLen)
	for k := range buf {
		buf[k] = guardID
	}
	copy(buf[GuardLen:], x)
	return &Buf{name: name, i32: buf, iwas: slices.Clone(buf), lo: GuardLen, n: len(x)}
}

// OutIDs returns an int32 output buffer holding a copy of x.
func OutIDs(name string, x []int32) *Buf {
	b := InIDs(name, x)
	b.out = true
	return b
}

// Out16 returns a 16-bit output buffer holding a copy of x.
func Out16(name string, x []uint16) *Buf {
	b := In16(name, x)
	b.out = true
	return b
}

// In16 returns a read-only 16-bit input buffer holding a copy of x.
func In16(name string, x []uint16) *Buf {
	buf := make([]uint16, len(x)+2*GuardLen)
	for k := range buf {
		buf[k] = guard16
	}
	copy(buf[GuardLen:], x)
	return &Buf{name: name, u16: buf, uwas: slices.Clone(buf), lo: GuardLen, n: len(x)}
}

// U16 is the 16-bit window the kernel gets.
func (b *Buf) U16() []uint16 {
	if b.u16 == nil {
		return nil
	}
	return b.u16[b.lo : b.lo+b.n]
}

func float(name string, x []float32, out bool) *Buf {
	buf := make([]float32, len(x)+2*GuardLen)
	for k := range buf {
		buf[k] = math.Float32frombits(guardBits)
	}
	copy(buf[GuardLen:], x)
	return &Buf{name: name, out: out, f32: buf, fwas: slices.Clone(buf), lo: GuardLen, n: len(x)}
}

// Overlapping returns an output holding out and a float32 input holding in,
// laid out in one allocation so that the input's first k elements are the
// output's last k (the caller makes them agree: out's values win). It is
// for checking that a kernel rejects aliased buffers; the input is checked
// as part of the output: nothing in the allocation may change but the
// output's window.
func Overlapping(outName string, out []float32, inName string, in []float32, k int) (o, i *Buf) {
	k = min(k, len(out), len(in))
	o = Out(outName, append(slices.Clone(out), in[k:]...))
	o.n = len(out)
	return o, &Buf{name: inName, f32: o.f32, lo: GuardLen + len(out) - k, n: len(in), view: true}
}

// OverlappingIDs is Overlapping for int32 ids laid over the output's last k
// elements, their bits reinterpreted: the caller sets out's last k
// elements to math.Float32frombits(uint32(id)) of the first k ids, and
// len(ids) must not exceed k (ids lie wholly inside the output).
func OverlappingIDs(outName string, out []float32, inName string, ids []int32) (o, i *Buf) {
	o = Out(outName, out)
	k := min(len(ids), len(out))
	return o, &Buf{name: inName, f32: o.f32, lo: GuardLen + len(out) - k, n: k, view: true}
}

// Out64 returns a float64 output buffer holding a copy of x, for results
// kept in float64 (the per-row norms of gradnorm); its bands hold a
// signalling NaN too.
func Out64(name string, x []float64) *Buf {
	buf := make([]float64, len(x)+2*GuardLen)
	for k := range buf {
		buf[k] = math.Float64frombits(guardBits64)
	}
	copy(buf[GuardLen:], x)
	return &Buf{name: name, out: true, f64: buf, dwas: slices.Clone(buf), lo: GuardLen, n: len(x)}
}

// guardBits64 is a float64 signalling NaN.
const guardBits64 = 0x7ff405afe05afe00

// F64 is the float64 window the kernel gets.
func (b *Buf) F64() []float64 {
	if b.f64 == nil {
		return nil
	}
	return b.f64[b.lo : b.lo+b.n]
}

// F32 is the float32 window the kernel gets.
func (b *Buf) F32() []float32 {
	if b.f32 == nil {
		return nil
	}
	return b.f32[b.lo : b.lo+b.n]
}

// I32 is the int32 window the kernel gets; for ids laid over a float32
// output it reinterprets that memory.
func (b *Buf) I32() []int32 {
	if b.i32 != nil {
		return b.i32[b.lo : b.lo+b.n]
	}
	if b.n == 0 {
		return []int32{}
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(&b.f32[b.lo])), b.n)
}

// Kinds of Violation.
const (
	Panicked     = "panic"
	StrayWrite   = "guard"
	ChangedInput = "input"
)

// A Violation is a breach of the contract that the guarded call itself
// saw, as opposed to an error the kernel returned.
type Violation struct {
	Kind string // Panicked, StrayWrite or ChangedInput (or a caller's own kind)
	Msg  string
}

func (v *Violation) Error() string { return v.Msg }

// IsViolation reports whether err holds a Violation of the given kind.
func IsViolation(err error, kind string) bool {
	var v *Violation
	return errors.As(err, &v) && v.Kind == kind
}

// Call runs f, which calls a kernel on the windows of bufs, and returns
// f's error or, taking precedence, a *Violation: f panicked (on this
// goroutine: a panic on another one kills the process), wrote to an output
// outside its window, or changed an input.
func Call(f func() error, bufs ...*Buf) error {
	if err := Protect(f); IsViolation(err, Panicked) {
		return err
	} else if v := check(bufs); v != nil {
		return v
	} else {
		return err
	}
}

func check(bufs []*Buf) error {
	for _, b := range bufs {
		if b.view || !b.out {
			continue
		}
		for k, x := range b.f32 {
			if (k < b.lo || k >= b.lo+b.n) && math.Float32bits(x) != math.Float32bits(b.fwas[k]) {
				return &Violation{StrayWrite, fmt.Sprintf("wrote %v outside %s, at %s[%d] (len(%s) = %d)", x, b.name, b.name, k-b.lo, b.name, b.n)}
			}
		}
		for k, x := range b.f64 {
			if (k < b.lo || k >= b.lo+b.n) && math.Float64bits(x) != math.Float64bits(b.dwas[k]) {
				return &Violation{StrayWrite, fmt.Sprintf("wrote %v outside %s, at %s[%d] (len(%s) = %d)", x, b.name, b.name, k-b.lo, b.name, b.n)}
			}
		}
		for k, x := range b.i32 {
			if (k < b.lo || k >= b.lo+b.n) && x != b.iwas[k] {
				return &Violation{StrayWrite, fmt.Sprintf("wrote %v outside %s, at %s[%d] (len(%s) = %d)", x, b.name, b.name, k-b.lo, b.name, b.n)}
			}
		}
		for k, x := range b.u16 {
			if (k < b.lo || k >= b.lo+b.n) && x != b.uwas[k] {
				return &Violation{StrayWrite, fmt.Sprintf("wrote %#04x outside %s, at %s[%d] (len(%s) = %d)", x, b.name, b.name, k-b.lo, b.name, b.n)}
			}
		}
	}
	for _, b := range bufs {
		if b.view || b.out {
			continue
		}
		if b.f32 != nil {
			if k := FirstDiff(b.f32, b.fwas); k >= 0 {
				return &Violation{ChangedInput, fmt.Sprintf("modified %s: %s[%d] (len %d) was %v, now %v", b.name, b.name, k-b.lo, b.n, b.fwas[k], b.f32[k])}
			}
		}
		for k := range b.u16 {
			if b.u16[k] != b.uwas[k] {
				return &Violation{ChangedInput, fmt.Sprintf("modified %s: %s[%d] (len %d) was %#04x, now %#04x", b.name, b.name, k-b.lo, b.n, b.uwas[k], b.u16[k])}
			}
		}
		for k := range b.i32 {
			if b.i32[k] != b.iwas[k] {
				return &Violation{ChangedInput, fmt.Sprintf("modified %s: %s[%d] (len %d) was %d, now %d", b.name, b.name, k-b.lo, b.n, b.iwas[k], b.i32[k])}
			}
		}
	}
	return nil
}

// Protect runs f, turning a panic on this goroutine into a Violation: a
// kernel never panics on user input.
func Protect(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Violation{Panicked, fmt.Sprintf("kernel panicked: %v", p)}
		}
	}()
	return f()
}

// Accepted returns err, from a kernel call on valid input, as a failure:
// a Violation as it is, a kernel's error as a rejection of valid input.
func Accepted(err error) error {
	var v *Violation
	if err != nil && !errors.As(err, &v) {
		return fmt.Errorf("kernel rejected valid input: %w", err)
	}
	return err
}

// BackwardFunc is the shape of embgrad.Kernel.Backward (and of
// embgrad.Scratch bound to a kernel).
type BackwardFunc func(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error

// Backward calls f through Call on guarded copies of dst, ids and gradOut
// and returns dst after the call (also when f failed) and f's error or the
// violation.
func Backward(f BackwardFunc, dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) ([]float32, error) {
	out, g, in := Out("dst", dst), In("gradOut", gradOut), InIDs("ids", ids)
	err := Call(func() error { return f(out.F32(), V, D, in.I32(), g.F32(), opt) }, out, g, in)
	return out.F32(), err
}

// Tied calls k.BackwardTied through Call on guarded copies of dst and of
// every input, and returns dst after the call (also when k failed) and k's
// error or the violation.
func Tied(k embgrad.TiedKernel, dst []float32, a embgrad.TiedArgs) ([]float32, error) {
	out, ids, g := Out("dst", dst), InIDs("ids", a.IDs), In("gradOut", a.GradOut)
	h, z := In("H", a.H), In("dZ", a.DZ)
	b := a
	err := Call(func() error {
		b.IDs, b.GradOut, b.H, b.DZ = ids.I32(), g.F32(), h.F32(), z.F32()
		return k.BackwardTied(out.F32(), b)
	}, out, ids, g, h, z)
	return out.F32(), err
}

// Sparse calls k.Sparse through Call on guarded copies of rows, values, ids
// and gradOut, and returns rows and values after the call (also when k
// failed), U, and k's error or the violation.
func Sparse(k embgrad.SparseKernel, rows []int32, values []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) ([]int32, []float32, int, error) {
	r, v, in, g := OutIDs("rows", rows), Out("values", values), InIDs("ids", ids), In("gradOut", gradOut)
	var u int
	err := Call(func() (err error) {
		u, err = k.Sparse(r.I32(), v.F32(), V, D, in.I32(), g.F32(), opt)
		return err
	}, r, v, in, g)
	return r.I32(), v.F32(), u, err
}

// Half calls k.BackwardHalf through Call on guarded copies of dst, ids and
// gradOut and returns dst after the call (also when k failed) and k's
// error or the violation.
func Half(k embgrad.HalfKernel, dst []float32, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) ([]float32, error) {
	out, g, in := Out("dst", dst), In16("gradOut", gradOut), InIDs("ids", ids)
	err := Call(func() error { return k.BackwardHalf(out.F32(), V, D, in.I32(), g.U16(), opt) }, out, g, in)
	return out.F32(), err
}

// Half16 calls k.BackwardHalf16 through Call on guarded copies of dst, ids
// and gradOut and returns dst after the call (also when k failed) and k's
// error or the violation.
func Half16(k embgrad.Half16Kernel, dst []uint16, V, D int, ids []int32, gradOut []uint16, opt embgrad.HalfOptions) ([]uint16, error) {
	out, g, in := Out16("dst", dst), In16("gradOut", gradOut), InIDs("ids", ids)
	err := Call(func() error { return k.BackwardHalf16(out.U16(), V, D, in.I32(), g.U16(), opt) }, out, g, in)
	return out.U16(), err
}
