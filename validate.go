package embgrad

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
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

// Product returns a*b for non-negative a, b, or an error naming the operands
// when the product overflows int (a V×D table too large to index).
func Product(aName string, a int, bName string, b int) (int, error) {
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
// first write to dst.
func Validate(dst []float32, V, D int, ids []int32, gradOut []float32, opt Options) error {
	vd, err := Product("V", V, "D", D)
	if err != nil {
		return err
	}
	if len(dst) != vd {
		return &LengthError{"dst", len(dst), vd, fmt.Sprintf("V*D = %d*%d", V, D)}
	}
	nd, err := Product("len(ids)", len(ids), "D", D)
	if err != nil {
		return err
	}
	if len(gradOut) != nd {
		return &LengthError{"gradOut", len(gradOut), nd, fmt.Sprintf("len(ids)*D = %d*%d", len(ids), D)}
	}
	if opt.HasPadding && (opt.PaddingIdx < 0 || int(opt.PaddingIdx) >= V) {
		return invalid("padding index %d is outside [0, %d)", opt.PaddingIdx, V)
	}
	if i := FirstBadID(ids, V); i >= 0 {
		return &IDError{Pos: i, ID: ids[i], V: V}
	}
	return nil
}

// FirstBadID returns the first position whose id is outside [0, V), or -1.
func FirstBadID(ids []int32, V int) int {
	for i, id := range ids {
		if id < 0 || int(id) >= V {
			return i
		}
	}
	return -1
}
