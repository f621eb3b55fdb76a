package reference

import (
	"fmt"

	"github.com/embgrad/embgrad"
)

// SparseResult is the oracle's answer for one SparseKernel call: the rows
// a correct kernel returns, and the dense answer from a zero dst whose
// per-element bound its values must meet.
type SparseResult struct {
	Rows  []int32 // the distinct non-padding ids, ascending
	Dense *Result // Oracle from a zero dst
}

// SparseOracle runs the float64 backward on a sparse call's inputs. It
// validates them with embgrad.Validate (on a zero V×D dst, which it
// allocates) and returns that error for invalid input.
func SparseOracle(V, D int, ids []int32, gradOut []float32, opt embgrad.Options) (*SparseResult, error) {
	if V < 0 || D < 0 {
		// Validate names the bad shape; the dense dst could not be made.
		if err := embgrad.Validate(nil, V, D, ids, gradOut, opt); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("reference: negative shape V=%d D=%d", V, D)
	}
	if int64(V)*int64(D) > 1<<28 {
		return nil, fmt.Errorf("reference: V*D = %d*%d is too large for the dense oracle", V, D)
	}
	d, err := Oracle(make([]float32, V*D), V, D, ids, gradOut, opt)
	if err != nil {
		return nil, err
	}
	r := &SparseResult{Rows: []int32{}, Dense: d}
	for v, c := range d.Count {
		if c > 0 {
			r.Rows = append(r.Rows, int32(v))
		}
	}
	return r, nil
}

// Check compares a sparse kernel's output (rows[:U], values[:U*D]) with
// the oracle: the rows exactly, each value within the dense Bound of its
// element (a single unscaled occurrence bitwise). It returns nil, an error
// describing the first wrong row, or a *Mismatch for the first offending
// value.
func (r *SparseResult) Check(rows []int32, values []float32, U int) error {
	D := r.Dense.D
	if U < 0 || U > len(rows) || U*D > len(values) {
		return fmt.Errorf("U = %d is outside the buffers (len(rows) = %d, len(values) = %d)", U, len(rows), len(values))
	}
	if U != len(r.Rows) {
		return fmt.Errorf("U = %d, want %d distinct non-padding rows (got rows %v, want %v)", U, len(r.Rows), clip(rows[:U]), clip(r.Rows))
	}
	for u, row := range rows[:U] {
		if row != r.Rows[u] {
			return fmt.Errorf("rows[%d] = %d, want %d (got rows %v, want %v)", u, row, r.Rows[u], clip(rows[:U]), clip(r.Rows))
		}
	}
	at := func(k int) int { return int(r.Rows[k/D])*D + k%D }
	return check(values[:U*D], U*D, func(k int, g float32) bool { return r.Dense.ok(at(k), g) }, func(k int, g float32) *Mismatch {
		e := at(k)
		row := e / D
		return &Mismatch{Row: row, Col: e % D, Got: g, Want: r.Dense.Want[e], Bound: r.Dense.Bound(e), Count: r.Dense.Count[row]}
	})
}

// clip shortens a row list for a message.
func clip(x []int32) []int32 {
	if len(x) > 12 {
		return x[:12]
	}
	return x
}
