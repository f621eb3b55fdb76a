package embgrad

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"unsafe"
)

// ErrInvalidInput is wrapped by every validation error, so callers can test
// errors.Is(err, ErrInvalidInput).
var ErrInvalidInput = errors.New("embgrad: invalid input")

// IDError reports an id outside [0, V).
type IDError struct {
	Pos int   // position in ids
	ID  int32 // the offending value
	V   int   // vocabulary size
}

func (e *IDError) Error() string {
	return fmt.Sprintf("embgrad: invalid input: ids[%d] = %d is outside [0, %d)", e.Pos, e.ID, e.V)
}

func (e *IDError) Unwrap() error { return ErrInvalidInput }

// LengthError reports a slice whose length does not match the shape.
type LengthError struct {
	Slice string // "dst", "gradOut", ...
	Got   int
	Want  int
	Why   string // how Want was derived, e.g. "V*D = 10*4"
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("embgrad: invalid input: len(%s) = %d, want %d (%s)", e.Slice, e.Got, e.Want, e.Why)
}

func (e *LengthError) Unwrap() error { return ErrInvalidInput }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

// MaxV is the largest vocabulary Validate accepts: ids are int32, so no
// row past MaxInt32 can be named, and the bound keeps a kernel that sizes a
// work table by V from being made to allocate an arbitrary amount when D = 0
// (dst is then empty whatever V is, so its length bounds nothing).
const MaxV = math.MaxInt32 + 1

// product returns a*b for non-negative a, b, or an error naming the operands
// when the product overflows int (a V×D table too large to index).
func product(aName string, a int, bName string, b int) (int, error) {
	if a < 0 || b < 0 {
		return 0, invalid("negative %s = %d or %s = %d", aName, a, bName, b)
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt {
		return 0, invalid("%s*%s = %d*%d overflows int", aName, bName, a, b)
	}
	return int(lo), nil
}

// Validate checks a Backward call's inputs and returns the first problem, or
// nil. Every kernel calls it (or does at least the same checks) before its
// first write to dst. Besides ids, lengths and padding it rejects V > MaxV
// and a dst that shares memory with ids or gradOut (a kernel reading what
// it has already written would give order-dependent results).
func Validate(dst []float32, V, D int, ids []int32, gradOut []float32, opt Options) error {
	vd, err := product("V", V, "D", D)
	if err != nil {
		return err
	}
	if V > MaxV {
		return invalid("V = %d is above MaxV = %d (ids are int32)", V, MaxV)
	}
	if len(dst) != vd {
		return &LengthError{"dst", len(dst), vd, fmt.Sprintf("V*D = %d*%d", V, D)}
	}
	nd, err := product("len(ids)", len(ids), "D", D)
	if err != nil {
		return err
	}
	if len(gradOut) != nd {
		return &LengthError{"gradOut", len(gradOut), nd, fmt.Sprintf("len(ids)*D = %d*%d", len(ids), D)}
	}
	if err := disjoint(dst, "gradOut", gradOut); err != nil {
		return err
	}
	if err := disjoint(dst, "ids", ids); err != nil {
		return err
	}
	if opt.HasPadding && (opt.PaddingIdx < 0 || int(opt.PaddingIdx) >= V) {
		return invalid("padding index %d is outside [0, %d)", opt.PaddingIdx, V)
	}
	if i := firstBadID(ids, V); i >= 0 {
		return &IDError{Pos: i, ID: ids[i], V: V}
	}
	return nil
}

// firstBadID returns the first position whose id is outside [0, V), or -1.
func firstBadID(ids []int32, V int) int {
	for i, id := range ids {
		if id < 0 || int(id) >= V {
			return i
		}
	}
	return -1
}

// disjoint returns an error if dst and the input named name share memory.
// Inputs may share memory with each other: they are read-only. The test is
// on byte ranges, as crypto/internal/alias.AnyOverlap does, so buffers of
// different element types (ids and dst) are compared too.
func disjoint[T int32 | float32](dst []float32, name string, in []T) error {
	if overlap(dst, in) {
		return invalid("dst overlaps %s (dst must not share memory with an input)", name)
	}
	return nil
}

// overlap reports whether a and b share memory (byte ranges, any element
// types).
func overlap[A, B int32 | float32 | uint16](a []A, b []B) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0 := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	a1 := a0 + uintptr(len(a))*unsafe.Sizeof(a[0])
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	b1 := b0 + uintptr(len(b))*unsafe.Sizeof(b[0])
	return a0 < b1 && b0 < a1
}
