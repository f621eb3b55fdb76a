package registry_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/impl/registry"
	"github.com/embgrad/embgrad/internal/broken"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/property"
	"github.com/embgrad/embgrad/reference"
)

// FuzzSparse decodes bytes into a Sparse call, with FuzzBackward's decoder,
// and checks every registered sparse kernel on it through the guarded call
// (guard bands on rows and values, read-only ids and gradOut):
//
//   - valid input: rows[:U] exactly the distinct non-padding ids ascending
//     and values within reference.SparseOracle's bound, buffers past U
//     unchanged, and the result densified (embgrad.Densify) within the
//     bound of the dense oracle from a zero table;
//
//   - invalid input (the decoder's bad ids, lengths, padding and negative
//     V, and flag 8 — FuzzBackward's wrong len(dst) — read here as a values
//     buffer one element short, or rows one short when N·D = 0): an error
//     wrapping embgrad.ErrInvalidInput, U = 0, rows and values unchanged;
//
//   - D = 0 with a huge V: no panic; nil or ErrInvalidInput, and on success
//     the distinct ids (computed without a V-sized table).
//
//     go test -run '^$' -fuzz FuzzSparse -fuzztime 60s ./impl/registry
func FuzzSparse(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte{8, 5, 3, 3, 1, 2, 3}) // values one short
	f.Add([]byte{8, 5, 0, 3, 1, 2, 3}) // D = 0: rows one short
	f.Fuzz(func(t *testing.T, data []byte) {
		c, huge := decode(data)
		short := len(data) > 0 && data[0]&8 != 0
		for _, k := range registry.Sparse() {
			if err := verifySparse(k, c, huge, short); err != nil {
				t.Errorf("%s: %v\ncase V=%d D=%d ids=%v opt=%+v short=%v", k.Name(), err, c.V, c.D, clipIDs(c.IDs), c.Opt, short)
			}
		}
	})
}

// TestSparseSeeds runs FuzzSparse's checks on the seeds and on cases the
// decoder makes from a counter, so that plain go test covers them, and
// checks that they reach valid, invalid and huge calls.
func TestSparseSeeds(t *testing.T) {
	var valid, invalid, huge int
	inputs := sparseInputs()
	for _, data := range inputs {
		c, h := decode(data)
		short := len(data) > 0 && data[0]&8 != 0
		for _, k := range registry.Sparse() {
			if err := verifySparse(k, c, h, short); err != nil {
				t.Errorf("%s: %v\ninput %v", k.Name(), err, data)
			}
		}
		switch {
		case h:
			huge++
		case sparseValid(c, short):
			valid++
		default:
			invalid++
		}
	}
	if valid < 50 || invalid < 50 || huge == 0 {
		t.Errorf("%d valid, %d invalid, %d huge cases; want ≥ 50, ≥ 50, ≥ 1", valid, invalid, huge)
	}
}

// sparseInputs are the seeds and 300 random inputs, mostly valid calls.
func sparseInputs() [][]byte {
	inputs := slices.Clone(seeds)
	rng := rand.New(rand.NewPCG(12, 12))
	for i := range 300 {
		b := make([]byte, 8+rng.IntN(200))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		b[0] &= 3 // padding and scaling: mostly valid calls
		switch i % 4 {
		case 1:
			b[0] |= 1 << (2 + rng.IntN(6)) // one of the other flags, huge included
		case 2:
			b[4] = 255 // a repeat run
		}
		inputs = append(inputs, b)
	}
	return inputs
}

// sparseBuffers returns rows and values for c, prefilled, one element short
// of what the rule needs when short, else two rows and one value row
// longer.
func sparseBuffers(c property.Case, short bool) ([]int32, []float32) {
	N, nd := len(c.IDs), len(c.IDs)*max(c.D, 0)
	nr, nv := N+2, nd+max(c.D, 1)
	if short {
		if nd > 0 {
			nr, nv = N, nd-1
		} else if N > 0 {
			nr, nv = N-1, nd
		}
	}
	rows, values := make([]int32, nr), make([]float32, nv)
	for i := range rows {
		rows[i] = int32(-7 - i)
	}
	for i := range values {
		values[i] = float32(i%5) - 2.25
	}
	return rows, values
}

// sparseValid reports whether the oracle accepts c and the buffers are
// large enough.
func sparseValid(c property.Case, short bool) bool {
	if c.V*max(c.D, 1) > 1<<28 {
		return false
	}
	_, err := reference.SparseOracle(c.V, c.D, c.IDs, c.GradOut, c.Opt)
	return err == nil && !(short && len(c.IDs) > 0)
}

func verifySparse(k embgrad.SparseKernel, c property.Case, huge, short bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	rows0, vals0 := sparseBuffers(c, short)
	rows, vals, U, kerr := suite.Sparse(k, rows0, vals0, c.V, c.D, c.IDs, c.GradOut, c.Opt)
	var v *suite.Violation
	if errors.As(kerr, &v) {
		return kerr
	}
	if huge {
		if kerr != nil {
			if !errors.Is(kerr, embgrad.ErrInvalidInput) {
				return fmt.Errorf("error %q does not wrap ErrInvalidInput", kerr)
			}
			return nil
		}
		var want []int32
		for _, id := range c.IDs {
			if !c.Opt.Skips(id) {
				want = append(want, id)
			}
		}
		want = slices.Compact(slices.Sorted(slices.Values(want)))
		if !slices.Equal(rows[:U], want) {
			return fmt.Errorf("rows %v, want %v", clipIDs(rows[:U]), clipIDs(want))
		}
		return nil
	}
	var res *reference.SparseResult
	if c.V*max(c.D, 1) <= 1<<28 {
		res, _ = reference.SparseOracle(c.V, c.D, c.IDs, c.GradOut, c.Opt)
	}
	if res == nil || (short && len(c.IDs) > 0) {
		switch {
		case kerr == nil:
			return errors.New("invalid input accepted")
		case !errors.Is(kerr, embgrad.ErrInvalidInput):
			return fmt.Errorf("error %q does not wrap ErrInvalidInput", kerr)
		case U != 0:
			return fmt.Errorf("U = %d on error, want 0", U)
		}
		if !slices.Equal(rows, rows0) || !sameFloatBits(vals, vals0) {
			return errors.New("rows or values changed on error")
		}
		return nil
	}
	if kerr != nil {
		return fmt.Errorf("valid input rejected: %w", kerr)
	}
	if err := res.Check(rows, vals, U); err != nil {
		return err
	}
	if !slices.Equal(rows[U:], rows0[U:]) || !sameFloatBits(vals[U*c.D:], vals0[U*c.D:]) {
		return errors.New("rows or values changed past U")
	}
	dst := make([]float32, c.V*c.D)
	if err := embgrad.Densify(dst, c.V, c.D, rows, vals, U); err != nil {
		return fmt.Errorf("Densify: %v", err)
	}
	return res.Dense.Check(dst)
}

func sameFloatBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

func clipIDs(x []int32) []int32 {
	if len(x) > 12 {
		return x[:12]
	}
	return x
}

// TestSparseFuzzChecksCatchFaults runs FuzzSparse's checks on the seeds
// and the counter cases with internal/broken's faulty sparse kernels, each
// of which must be flagged on some input, and its reordered ones, none of
// which may be.
func TestSparseFuzzChecksCatchFaults(t *testing.T) {
	inputs := sparseInputs()
	flagged := func(k embgrad.SparseKernel) error {
		for _, data := range inputs {
			c, h := decode(data)
			if err := verifySparse(k, c, h, len(data) > 0 && data[0]&8 != 0); err != nil {
				return err
			}
		}
		return nil
	}
	for _, k := range broken.FaultySparse() {
		if _, ok := k.(embgrad.SparseParallel); ok {
			continue // the worker counts are gradcheck's sparse/repeat, not the fuzzer's
		}
		if flagged(k) == nil {
			t.Errorf("%s: not caught", k.Name())
		}
	}
	for _, k := range broken.ReorderedSparse() {
		if err := flagged(k); err != nil {
			t.Errorf("%s: flagged: %v", k.Name(), err)
		}
	}
}
