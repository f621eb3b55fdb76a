package optim

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/embgrad/embgrad"
)

// ValidateStep checks a Stepper call before any write: the optimizer
// (hyper-parameters, state sizes), len(w) = V·D, U within rows and values,
// rows[:U] strictly ascending within [0, V), and no sharing of memory
// between w, the state and the inputs.
func ValidateStep(w []float32, st *State, V, D int, rows []int32, values []float32, U int, o Optimizer) error {
	if err := shape(w, V, D); err != nil {
		return err
	}
	if o == nil {
		return invalid("nil optimizer")
	}
	if err := o.Check(st, V, D); err != nil {
		return err
	}
	if U < 0 || U > len(rows) {
		return invalid("U = %d is outside [0, len(rows) = %d]", U, len(rows))
	}
	if hi, lo := mul(U, D); hi || lo > len(values) {
		return invalid("U*D = %d*%d exceeds len(values) = %d", U, D, len(values))
	}
	for u, r := range rows[:U] {
		if r < 0 || int(r) >= V {
			return invalid("rows[%d] = %d is outside [0, %d)", u, r, V)
		}
		if u > 0 && r <= rows[u-1] {
			return invalid("rows[%d] = %d does not follow rows[%d] = %d (rows must be strictly ascending)", u, r, u-1, rows[u-1])
		}
	}
	return disjoint(w, st, buf("rows", rows[:U]), buf("values", values[:U*D]))
}

// ValidateFused checks a Fused call before any write: embgrad.Validate's
// rules with w as dst (ids, lengths, padding, MaxV), the optimizer, and no
// sharing of memory between w, the state and the inputs.
func ValidateFused(w []float32, st *State, V, D int, ids []int32, gradOut []float32, opt embgrad.Options, o Optimizer) error {
	if err := embgrad.Validate(w, V, D, ids, gradOut, opt); err != nil {
		return err
	}
	if o == nil {
		return invalid("nil optimizer")
	}
	if err := o.Check(st, V, D); err != nil {
		return err
	}
	return disjoint(w, st, buf("ids", ids), buf("gradOut", gradOut))
}

func shape(w []float32, V, D int) error {
	if V < 0 || D < 0 {
		return invalid("negative V = %d or D = %d", V, D)
	}
	if V > embgrad.MaxV {
		return invalid("V = %d is above embgrad.MaxV = %d", V, embgrad.MaxV)
	}
	hi, vd := mul(V, D)
	if hi {
		return invalid("V*D = %d*%d overflows int", V, D)
	}
	if len(w) != vd {
		return &embgrad.LengthError{Slice: "w", Got: len(w), Want: vd, Why: fmt.Sprintf("V*D = %d*%d", V, D)}
	}
	return nil
}

// mul returns a·b for a, b ≥ 0 and whether it overflows int.
func mul(a, b int) (bool, int) {
	if a == 0 || b == 0 {
		return false, 0
	}
	if a > math.MaxInt/b {
		return true, 0
	}
	return false, a * b
}

// span is a named byte range of a buffer.
type span struct {
	name   string
	lo, hi uintptr
}

func buf[T int32 | float32](name string, x []T) span {
	if len(x) == 0 {
		return span{name: name}
	}
	lo := uintptr(unsafe.Pointer(&x[0]))
	return span{name, lo, lo + uintptr(len(x))*4}
}

// disjoint rejects any two of w, the state's slices and the inputs sharing
// memory (inputs may share with each other: they are read-only).
func disjoint(w []float32, st *State, in ...span) error {
	outs := [3]span{buf("w", w), buf("Momentum1", st.Momentum1), buf("Momentum2", st.Momentum2)}
	hit := func(a, b span) error {
		if a.lo < b.hi && b.lo < a.hi {
			return invalid("%s overlaps %s (weights and state must not share memory with each other or an input)", a.name, b.name)
		}
		return nil
	}
	for i, a := range outs {
		for _, b := range outs[i+1:] {
			if err := hit(a, b); err != nil {
				return err
			}
		}
		for _, b := range in {
			if err := hit(a, b); err != nil {
				return err
			}
		}
	}
	return nil
}
