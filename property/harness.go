package property

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// backward is the shape of Kernel.Backward, of embgrad.Scratch bound to a
// kernel, and of a Parallel kernel's WithWorkers(n).Backward.
type backward func(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error

// scratch binds embgrad.Scratch to k.
func scratch(k embgrad.Kernel) backward {
	return func(dst []float32, V, D int, ids []int32, gradOut []float32, opt embgrad.Options) error {
		return embgrad.Scratch(k, dst, V, D, ids, gradOut, opt)
	}
}

// Kinds of violation the harness detects on every call.
const (
	panicked     = "panic"
	strayWrite   = "guard"
	changedInput = "input"
)

// A violation is a breach of the contract that the harness itself saw, as
// opposed to an error the kernel returned.
type violation struct {
	kind string
	msg  string
}

func (v *violation) Error() string { return v.msg }

// isViolation reports whether err is a violation of the given kind.
func isViolation(err error, kind string) bool {
	var v *violation
	return errors.As(err, &v) && v.kind == kind
}

// call runs f on c: dst is a copy of c.Dst between guard bands, ids and
// gradOut are copies of c's. It returns dst after the call and f's error,
// or a *violation if f panicked, wrote outside dst, or changed ids or
// gradOut.
func call(f backward, c Case) (dst []float32, err error) {
	ids, g := slices.Clone(c.IDs), slices.Clone(c.GradOut)
	dst, err = guarded(c.Dst, func(dst []float32) error { return f(dst, c.V, c.D, ids, g, c.Opt) })
	var v *violation
	if errors.As(err, &v) {
		return dst, err
	}
	if v := cmp.Or(unchangedIDs(ids, c.IDs), unchanged("gradOut", g, c.GradOut)); v != nil {
		return dst, v
	}
	return dst, err
}

// guarded runs f on a copy of src between guard bands (suite.Guarded) and
// returns the copy after the call and f's error, or a *violation if f
// panicked or wrote outside the copy.
func guarded(src []float32, f func(dst []float32) error) (dst []float32, err error) {
	buf, dst := suite.Guarded(src)
	err = protect(func() error { return f(dst) })
	if isViolation(err, panicked) {
		return dst, err
	}
	if i, ok := suite.Stray(buf, len(src)); ok {
		return dst, &violation{strayWrite, fmt.Sprintf("wrote %v outside dst, at dst[%d] (len(dst) = %d)", buf[suite.GuardLen+i], i, len(src))}
	}
	return dst, err
}

// unchangedIDs and unchanged return a violation if the kernel's copy of a
// read-only input differs from the original.
func unchangedIDs(got, orig []int32) error {
	if !slices.Equal(got, orig) {
		return &violation{changedInput, fmt.Sprintf("changed ids: %v, was %v", ints(got), ints(orig))}
	}
	return nil
}

func unchanged(name string, got, orig []float32) error {
	if i := suite.FirstDiff(got, orig); i >= 0 {
		return &violation{changedInput, fmt.Sprintf("changed %s[%d] from %v to %v", name, i, orig[i], got[i])}
	}
	return nil
}

// protect runs f and turns a panic into a violation: a kernel never panics
// on user input.
func protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &violation{panicked, fmt.Sprintf("panicked: %v", r)}
		}
	}()
	return f()
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
	if invalid == nil {
		got, err := run(f, c)
		if err != nil {
			return err
		}
		return want.Check(got)
	}
	got, err := call(f, c)
	var v *violation
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
