package property

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// backward is the shape of Kernel.Backward, of embgrad.Scratch bound to a
// kernel, and of a Parallel kernel's WithWorkers(n).Backward.
type backward = suite.BackwardFunc

// scratch binds embgrad.Scratch to k.
func scratch(k embgrad.Kernel) backward {
	return func(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
		return embgrad.Scratch(k, dst, V, D, ids, gradOut, opt)
	}
}

// call runs f on c through the suite's guarded call (copies of dst, ids and
// gradOut between guard bands; for an overlapping case, the input laid
// over dst's tail). It returns dst after the call and f's error, or a
// *suite.Violation.
func call(f backward, c Case) ([]float32, error) {
	var dst, g, ids *suite.Buf
	switch c.overlap.with {
	case "gradOut":
		dst, g = suite.Overlapping("dst", c.Dst, "gradOut", c.GradOut, c.overlap.n)
		ids = suite.InIDs("ids", c.IDs)
	case "ids":
		dst, ids = suite.OverlappingIDs("dst", c.Dst, "ids", c.IDs)
		g = suite.In("gradOut", c.GradOut)
	default:
		return suite.Backward(f, c.Dst, c.V, c.D, c.IDs, c.GradOut, c.Opt)
	}
	err := suite.Call(func() error { return f(dst.F32(), c.V, c.D, ids.I32(), g.F32(), c.Opt) }, dst, g, ids)
	return dst.F32(), err
}

// ints formats a list of ids or indices.
func ints[T int | int32](x []T) string {
	return list(len(x), func(i int) string { return strconv.Itoa(int(x[i])) })
}

// Verify runs k.Backward on c and checks the outcome. For valid input the
// result must agree with reference.Oracle within its bound (untouched and
// padding rows bit-for-bit unchanged); for invalid input k must return an
// error wrapping embgrad.ErrInvalidInput and leave dst unchanged. Either way
// k must not panic, write outside dst or change ids or gradOut.
func (c Case) Verify(k embgrad.Kernel) error {
	return verify(k.Backward, c)
}

func verify(f backward, c Case) error {
	want, invalid := reference.Oracle(c.Dst, c.V, c.D, c.IDs, c.GradOut, c.Opt)
	if invalid == nil && c.overlap.with == "" {
		got, err := run(f, c)
		if err != nil {
			return err
		}
		return want.Check(got)
	}
	if invalid == nil {
		invalid = fmt.Errorf("dst overlaps %s", c.overlap.with)
	}
	got, err := call(f, c)
	var v *suite.Violation
	switch {
	case errors.As(err, &v):
		return err
	case err == nil:
		return fmt.Errorf("accepted invalid input (%v)", invalid)
	case !errors.Is(err, embgrad.ErrInvalidInput):
		return fmt.Errorf("error %q for invalid input does not wrap embgrad.ErrInvalidInput", err)
	}
	if d := suite.SameBits(got, c.Dst, c.D, "unchanged"); d != nil {
		return fmt.Errorf("returned %q but changed dst: %w", err, d)
	}
	return nil
}

// run calls f on c, which is valid, and returns dst after the call. An error
// from f or a contract violation is the failure.
func run(f backward, c Case) ([]float32, error) {
	out, err := call(f, c)
	return out, suite.Accepted(err)
}

// negZero reports whether x is −0.
func negZero(x float32) bool { return x == 0 && math.Signbit(float64(x)) }
