// Package property verifies any embgrad.Kernel by property-based testing
// with gopter: it generates hundreds of cases — shapes, id distributions,
// padding and scaling options, values — checks the kernel contract on each,
// and shrinks a failing case to a small counterexample.
//
// On real-valued data a kernel must agree with the float64 oracle within its
// error bound (reference.Result.Check). On dyadic data (k/256 with small k,
// where float32 sums are exact in any order) the metamorphic relations of
// the design hold bit for bit: permuting the (id, row) pairs, splitting the
// batch, integer linearity, relabelling the vocabulary, scaling by 2^k,
// duplicating the batch, and a zero gradient. Every call runs with guard
// bands around dst and copies of ids and gradOut, so stray writes, changed
// inputs and panics are caught wherever they happen; every kind of invalid
// input must be rejected with an error wrapping embgrad.ErrInvalidInput and
// dst unchanged.
//
// A kernel's tests verify it with one line:
//
//	func TestProperty(t *testing.T) { property.Test(t, mykernel.K{}) }
//
// or, collecting every failure, property.Check(mykernel.K{}, property.Config{}).
//
// Runs are reproducible: the seed is -embgrad.seed, else $EMBGRAD_SEED,
// else a fixed default (see internal/suite), and a failure prints it with
// the shrunk case.
package property

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// Cases per property: the full run, and under cfg.Short (go test -short),
// which also draws smaller cases.
const (
	casesFull  = 100
	casesShort = 20
)

// Checks returns the properties for k, one named check each. The
// determinism check is left out for kernels that declare themselves
// embgrad.Nondeterministic, and the worker check is present only for
// embgrad.Parallel kernels.
func Checks(k embgrad.Kernel) []suite.Check {
	cs := []suite.Check{
		check("oracle", realValues, func(c Case) error { return verify(k.Backward, c) }),
		check("untouched-rows", realValues, func(c Case) error { return untouched(k, c) }),
		check("guard-bands", realValues, func(c Case) error { return only(strayWrite, k, c) }),
		check("read-only-inputs", realValues, func(c Case) error { return only(changedInput, k, c) }),
		check("permutation", dyadicValues, func(c Case) error { return permutation(k, c) }),
		check("batch-split", dyadicValues, func(c Case) error { return batchSplit(k, c) }),
		check("linearity", dyadicValues, func(c Case) error { return linearity(k, c) }),
		check("relabel", dyadicValues, func(c Case) error { return relabel(k, c) }),
		check("scale-pow2", dyadicValues, func(c Case) error { return scalePow2(k, c) }),
		check("duplicate-batch", dyadicValues, func(c Case) error { return duplicate(k, c) }),
		check("zero-gradout", dyadicValues, func(c Case) error { return zeroGrad(k, c) }),
		check("scratch", realValues, func(c Case) error { return scratchGarbage(k, c) }),
	}
	if nd, ok := k.(embgrad.Nondeterministic); !ok || !nd.Nondeterministic() {
		cs = append(cs, check("deterministic", realValues, func(c Case) error { return deterministic(k, c) }))
	}
	if p, ok := k.(embgrad.Parallel); ok {
		cs = append(cs, check("workers", realValues, func(c Case) error { return workers(p, c) }))
	}
	for _, inv := range invalidKinds {
		cs = append(cs, check("invalid-"+inv.name, realValues, func(c Case) error { return rejects(k, c, inv.corrupt) }))
	}
	return cs
}

// Config sets the seed and size of a run; its zero value uses the default
// seed (or -embgrad.seed, $EMBGRAD_SEED) and the full number of cases.
type Config = suite.Config

// Result is one check's outcome; Err is nil when it passed, and a *Failure
// when a counterexample was found.
type Result = suite.Result

// Run runs every check of k with cfg, one result per check.
func Run(k embgrad.Kernel, cfg Config) []Result { return suite.Run(Checks(k), cfg) }

// Check runs every check of k and returns all failures joined, or nil.
func Check(k embgrad.Kernel, cfg Config) error { return suite.Join(Run(k, cfg)) }

// Test runs each check of k as a subtest of t; -short runs fewer cases.
func Test(t *testing.T, k embgrad.Kernel) {
	t.Helper()
	suite.Test(t, Checks(k))
}

// Failure is a property that does not hold, with the shrunk counterexample.
type Failure struct {
	Seed    uint64 // the suite seed that reproduces it
	Short   bool   // found with cfg.Short, whose cases differ
	Case    Case   // the shrunk counterexample
	Orig    Case   // the case first found failing
	Shrinks int    // shrinking steps from Orig to Case
	Err     error  // what went wrong on Case
}

func (f *Failure) Error() string {
	short := ""
	if f.Short {
		short = " and -short"
	}
	return fmt.Sprintf("%v; case %v (shrunk in %d steps from N=%d V=%d D=%d); reproduce with -embgrad.seed=%d or EMBGRAD_SEED=%d%s",
		f.Err, f.Case, f.Shrinks, len(f.Orig.IDs), f.Orig.V, f.Orig.D, f.Seed, f.Seed, short)
}

func (f *Failure) Unwrap() error { return f.Err }

// valueKind selects the values generated cases hold.
type valueKind int

const (
	realValues   valueKind = iota // ordinary values with ±0, subnormals, huge magnitudes, NaN and ±Inf
	dyadicValues                  // k/256 with small k: exact sums in any order
)

// check makes a named suite check of the property that cond returns nil on
// every generated case.
func check(name string, kind valueKind, cond func(Case) error) suite.Check {
	return suite.Check{Name: name, Run: func(cfg suite.Config) error { return forAll(cfg, name, kind, cond) }}
}

// forAll checks cond on generated cases with gopter and returns a *Failure
// with the shrunk counterexample, or nil. Each property draws from its own
// stream, derived from the suite seed and its name.
func forAll(cfg suite.Config, name string, kind valueKind, cond func(Case) error) error {
	h := fnv.New64a()
	h.Write([]byte(name))
	params := gopter.DefaultTestParametersWithSeed(int64(cfg.Seed ^ h.Sum64()))
	lim := full
	params.MinSuccessfulTests = casesFull
	if cfg.Short {
		params.MinSuccessfulTests, lim = casesShort, short
	}
	res := prop.ForAll(func(c Case) string {
		if err := cond(c); err != nil {
			return err.Error()
		}
		return ""
	}, genCase(kind, lim)).Check(params)
	if res.Passed() {
		return nil
	}
	if len(res.Args) == 0 {
		return fmt.Errorf("gopter: %v after %d cases (seed %d): %v", res.Status, res.Succeeded, cfg.Seed, res.Error)
	}
	arg := res.Args[0]
	f := &Failure{Seed: cfg.Seed, Short: cfg.Short, Case: arg.Arg.(Case), Orig: arg.OrigArg.(Case), Shrinks: arg.Shrinks, Err: res.Error}
	if f.Err == nil {
		// Rerun the shrunk case to keep the error's type (a
		// *reference.Mismatch, say); a flaky kernel may pass now.
		if f.Err = cond(f.Case); f.Err == nil {
			f.Err = errors.New(strings.Join(res.Labels, "; "))
		}
	}
	return f
}
