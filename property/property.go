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
// duplicating the batch, and a zero gradient; D = 0 with a large vocabulary
// must succeed and change nothing. Every call runs with guard
// bands around copies of dst, ids and gradOut, so stray writes, changed
// inputs and panics on the calling goroutine are caught; every kind of invalid
// input — bad ids, lengths and padding, V·D overflowing, D = 0 with V above
// embgrad.MaxV, dst sharing memory with gradOut or ids — must be rejected
// with an error wrapping embgrad.ErrInvalidInput and dst unchanged.
//
// A kernel's tests verify it with one line:
//
//	func TestProperty(t *testing.T) { property.Test(t, mykernel.K{}) }
//
// or, collecting every failure, property.Check(mykernel.K{}, property.Config{}).
//
// Runs are reproducible: the seed is Config.Seed if the caller set it
// (Config.SeedSet or WithSeed for seed 0), else -embgrad.seed (registered in
// test binaries only), else $EMBGRAD_SEED, else 1; every failure prints the
// kernel, the shrunk case, what went wrong and how to reproduce it with the
// seed's own source. Each check draws from its own stream, and shrinking
// keeps only cases that fail the same check the same way.
//
// A panic on the calling goroutine is a failure; one on a goroutine the
// kernel starts itself kills the test process. With -v each check prints
// the kernel and the case before running it (Config.Trace), so the last
// line before such a crash names the case.
//
// The 16-bit forms have their own properties (HalfChecks, TestHalf), on
// dyadic data that bfloat16 and float16 hold exactly.
//
// Authors who wrap a library that returns a fresh gradient: adding the
// whole fresh table into dst adds +0 to rows no id names, which turns a −0
// there into +0 and fails untouched-rows; add only the rows ids name.
package property

import (
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
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
// embgrad.Parallel kernels. For a kernel behind a process boundary
// (suite.Boundary) guard-bands, read-only-inputs and the two overlap checks
// report themselves not applicable (Result.NotApplicable).
func Checks(k embgrad.Kernel) []NamedCheck {
	cs := []NamedCheck{
		check("oracle", k, realValues, func(c Case) error { return verify(k.Backward, c) }),
		check("untouched-rows", k, realValues, func(c Case) error { return untouched(k, c) }),
		suite.Needs(check("guard-bands", k, realValues, func(c Case) error { return only(suite.StrayWrite, k, c) }), k, suite.StrayWrite),
		suite.Needs(check("read-only-inputs", k, realValues, func(c Case) error { return only(suite.ChangedInput, k, c) }), k, suite.ChangedInput),
		check("permutation", k, dyadicValues, func(c Case) error { return permutation(k, c) }),
		check("batch-split", k, dyadicValues, func(c Case) error { return batchSplit(k, c) }),
		check("linearity", k, dyadicValues, func(c Case) error { return linearity(k, c) }),
		check("relabel", k, dyadicValues, func(c Case) error { return relabel(k, c) }),
		check("scale-pow2", k, dyadicValues, func(c Case) error { return scalePow2(k, c) }),
		check("duplicate-batch", k, dyadicValues, func(c Case) error { return duplicate(k, c) }),
		check("zero-gradout", k, dyadicValues, func(c Case) error { return zeroGrad(k, c) }),
		check("scratch", k, realValues, func(c Case) error { return scratchGarbage(k, c) }),
		check("zero-width", k, realValues, func(c Case) error { return verify(k.Backward, zeroWidth(c)) }),
	}
	if nd, ok := k.(embgrad.Nondeterministic); !ok || !nd.Nondeterministic() {
		cs = append(cs, check("deterministic", k, realValues, func(c Case) error { return deterministic(k, c) }))
	}
	if p, ok := k.(embgrad.Parallel); ok {
		cs = append(cs, check("workers", k, realValues, func(c Case) error { return workers(p, c) }))
	}
	for _, inv := range invalidKinds {
		c := check("invalid-"+inv.name, k, realValues, func(c Case) error { return rejects(k, c, inv.corrupt) })
		if aliasing[inv.name] {
			c = suite.Needs(c, k, suite.Aliasing)
		}
		cs = append(cs, c)
	}
	return cs
}

// Config sets the seed and size of a run; its zero value uses the default
// seed (or -embgrad.seed, $EMBGRAD_SEED) and the full number of cases. Its
// fields: Seed (0: the flag, environment or default, unless SeedSet),
// SeedSet (Seed counts even when 0; WithSeed sets both), Short (fewer and
// smaller cases) and Trace (an io.Writer that receives the check, kernel
// and case before each case runs; Test sets it to stderr under -v).
type Config = suite.Config

// Result is one check's outcome: Check is its name, Err nil when it
// passed and a *Failure when a counterexample was found.
type Result = suite.Result

// NamedCheck is one check of the suite: Name, and Run(Config) returning its
// failure (nil when it passed). Checks and TiedChecks return them, for a
// caller that runs or lists them itself; RunChecks runs a list.
type NamedCheck = suite.Check

// RunChecks runs checks with cfg, one result per check, in order.
func RunChecks(checks []NamedCheck, cfg Config) []Result { return suite.Run(checks, cfg) }

// Run runs every check of k with cfg, one result per check.
func Run(k embgrad.Kernel, cfg Config) []Result { return suite.Run(Checks(k), cfg) }

// Check runs every check of k and returns all failures joined, or nil.
func Check(k embgrad.Kernel, cfg Config) error { return suite.Join(Run(k, cfg)) }

// Test runs each check of k as a subtest of t; -short runs fewer cases.
func Test(t *testing.T, k embgrad.Kernel) {
	t.Helper()
	suite.Test(t, Checks(k))
}

// Failure is a property that does not hold: the kernel (Subject), the
// check, the shrunk counterexample (Case) and the case first found (Orig),
// the shrinking steps between them, what went wrong on Case (Err), and the
// seed with its reproduce hint. Shrinking keeps only cases that fail the
// same check the same way as the first.
type Failure = suite.Failure[Case]

// valueKind selects the values generated cases hold.
type valueKind int

const (
	realValues   valueKind = iota // ordinary values with ±0, subnormals, huge magnitudes, NaN and ±Inf
	dyadicValues                  // k/256 with small k: exact sums in any order
)

// check makes a named check of the property that cond returns nil on
// every generated case.
func check(name string, k embgrad.Kernel, kind valueKind, cond func(Case) error) NamedCheck {
	return NamedCheck{Name: name, Run: func(cfg Config) error {
		lim, n := full, casesFull
		if cfg.Short {
			lim, n = short, casesShort
		}
		return suite.ForAll(cfg, name, k.Name(), n, genCase(kind, lim), cond)
	}}
}
