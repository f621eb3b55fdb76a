// Package gradcheck verifies embedding-backward kernels against a float64
// oracle that is itself verified by finite differences.
//
// Any embgrad.Kernel, including one written outside this module, is checked
// with one line in its tests:
//
//	func TestGradcheck(t *testing.T) { gradcheck.Test(t, mykernel.K{}) }
//
// or, for an error instead of test failures, err := gradcheck.Check(k,
// gradcheck.Config{}) (every failure collected, errors.Join'ed, as
// testing/fstest does).
//
// What "correct" means (see the embgrad package doc for the contract): each
// output element must lie within reference's summation bound of the float64
// oracle — |got − want| ≤ γ(c−1)·Σ|s·g| for a row named c times, plus a
// rounding for a non-zero dst and for scaling — which every summation order
// meets and real bugs do not. Rows that receive nothing (untouched, padding)
// must be bit-for-bit unchanged, a single occurrence into a zero dst exact,
// and a zero gradOut must change nothing. The checks (see Checks) run over
// widths 1…129 around every SIMD block size, N=0 and V=1, uniform, Zipf,
// all-same and boundary ids, padding absent, hit and never hit, scaling on
// and off, and a zero or random dst. Every call sees its buffers inside
// guard bands and must neither write outside dst nor modify ids or gradOut;
// a panic on the calling goroutine is reported as a failure. A panic on a
// goroutine the kernel starts itself cannot be recovered and kills the test
// process: run with -v, and each check prints the kernel and the case it is
// about to run (Config.Trace), so the last line before the crash names it.
//
// Validation of invalid input is the property suite's business; gradcheck
// calls kernels with valid input only.
//
// Failures name the kernel, the case (V, D, N, distribution, options, dst
// mode), the first offending (row, col) with got, want and bound, and the
// seed with how to reproduce it: runs are reproducible, with a fixed
// default seed that EMBGRAD_SEED=N or, in test binaries only (the flag is
// not added to other programs' command lines), -embgrad.seed=N overrides,
// 0 included; a caller's Config.Seed (with Config.SeedSet for seed 0)
// overrides both, and the hint then names it. Config.Short (go test
// -short) runs fewer cases.
//
// CheckOracle runs the kernel-independent checks of the oracle itself;
// tied-embedding kernels have their own suite (TiedChecks, TestTied,
// CheckTied), and so have the 16-bit forms (HalfChecks, TestHalf for a
// float32 dst; Half16Checks, TestHalf16 for a 16-bit dst).
package gradcheck

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
)

// Config sets the seed and size of a run; its zero value uses the default
// seed (or -embgrad.seed / EMBGRAD_SEED) and the full set of cases. Its
// fields: Seed (0: the flag, environment or default, unless SeedSet),
// SeedSet (Seed counts even when 0; WithSeed sets both), Short (fewer and
// smaller cases) and Trace (an io.Writer that receives the check, kernel
// and case before each case runs; Test sets it to stderr under -v).
type Config = suite.Config

// Result is the outcome of one named check: Check is its name, Err nil
// when it passed.
type Result = suite.Result

// NamedCheck is one check of a suite: Name, and Run(Config) returning its
// failures joined (nil when it passed). Checks, TiedChecks and
// OracleChecks return them, for a caller that runs or lists them itself;
// RunChecks runs a list.
type NamedCheck = suite.Check

// RunChecks runs checks with cfg, one result per check, in order.
func RunChecks(checks []NamedCheck, cfg Config) []Result { return suite.Run(checks, cfg) }

// Test runs every check of k as a subtest of t; -short runs fewer cases.
func Test(t *testing.T, k embgrad.Kernel) {
	t.Helper()
	suite.Test(t, Checks(k))
}

// Check runs every check of k and returns all failures joined, or nil.
func Check(k embgrad.Kernel, cfg Config) error { return suite.Join(Run(k, cfg)) }

// Run runs every check of k and returns one result per check.
func Run(k embgrad.Kernel, cfg Config) []Result { return suite.Run(Checks(k), cfg) }

// Checks returns the checks that apply to k, in order:
//
//   - oracle: agreement with reference.Oracle within its bound over the
//     matrix of widths, shapes, distributions, options and dst modes;
//   - exact: single occurrences into a zero dst exact, zero gradOut leaves
//     dst bit-for-bit unchanged;
//   - nonfinite: NaN and ±Inf in gradOut and dst propagate (and +Inf meeting
//     −Inf gives NaN); padding positions swallow NaN;
//   - scratch: embgrad.Scratch over a garbage-filled dst equals the oracle
//     from zero;
//   - repeat: the same call twice gives the same bits (omitted when k
//     implements embgrad.Nondeterministic and returns true);
//   - workers: for embgrad.Parallel kernels, WithWorkers(1, 2, 3, 4, 7) give
//     bitwise-identical results;
//   - concurrent: calls on distinct dst buffers from several goroutines are
//     each correct.
func Checks(k embgrad.Kernel) []NamedCheck {
	cs := []NamedCheck{
		named("oracle", k, checkOracle),
		named("exact", k, checkExact),
		named("nonfinite", k, checkNonfinite),
		named("scratch", k, checkScratch),
	}
	if nd, ok := k.(embgrad.Nondeterministic); !ok || !nd.Nondeterministic() {
		cs = append(cs, named("repeat", k, checkRepeat))
	}
	if _, ok := k.(embgrad.Parallel); ok {
		cs = append(cs, named("workers", k, checkWorkers))
	}
	return append(cs, named("concurrent", k, checkConcurrent))
}

func named(name string, k embgrad.Kernel, f func(embgrad.Kernel, Config, *report)) NamedCheck {
	return suite.NewCheck(name, k.Name(), func(cfg Config, r *report) { f(k, cfg, r) })
}

// report collects a check's failures (suite.Report).
type report = suite.Report

func checkOracle(k embgrad.Kernel, cfg Config, r *report) {
	for i, s := range matrix() {
		if cfg.Short && !inShort(i) {
			continue
		}
		if c, ok := build(cfg.Stream("oracle", i), s); ok {
			r.Try(c, func() error { return verify(k, c, c.dst, false) })
		}
	}
}

func checkExact(k embgrad.Kernel, cfg Config, r *report) {
	for i, D := range suite.Widths {
		rng := cfg.Stream("exact", i)
		// Each row named at most once, into zeros: s = 1 or 1/1, so the
		// result is exactly gradOut's row (±0 aside).
		V := 40
		c, _ := build(rng, spec{V: V, D: D, N: 1 + rng.IntN(V), dist: distinct, pad: padMode(i % 2), scale: i%4 >= 2})
		r.Try(c, func() error { return exactSingles(k, c) })

		c, ok := build(rng, spec{V: 17, D: D, N: 60, dist: dist(i % int(numDists)), pad: padMode(i % 3), scale: i%2 == 1, fill: dstRandom})
		if !ok {
			continue
		}
		clear(c.g)
		for e, x := range c.dst {
			if x == 0 {
				c.dst[e] = 0 // −0 + +0 is +0: a correct kernel would change −0
			}
		}
		r.Try(c, func() error {
			got, err := call(k, c, c.dst, false)
			if err != nil {
				return err
			}
			return suite.SameBits(got, c.dst, D, "(the initial dst: gradOut is zero)")
		})
	}
}

func exactSingles(k embgrad.Kernel, c *tcase) error {
	got, want, err := verified(k, c, c.dst, false)
	if err != nil {
		return err
	}
	for e, x := range got {
		if want.Count[e/c.D] == 1 && float64(x) != want.Want[e] {
			return fmt.Errorf("row %d col %d: got %v, want exactly %v: a single occurrence into a zero dst has no rounding", e/c.D, e%c.D, x, want.Want[e])
		}
	}
	return nil
}

func checkNonfinite(k embgrad.Kernel, cfg Config, r *report) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for i, D := range suite.Widths {
		rng := cfg.Stream("nonfinite", i)
		const V = 6 // rows 0–4 are named; row 5 never is
		c, _ := build(rng, spec{V: V, D: D, N: 24, dist: uniform, pad: padMode(i % 2), scale: i/2%2 == 1, fill: dstMode(i / 4 % 2)})
		for p := range c.ids {
			c.ids[p] = int32(rng.IntN(V - 1))
		}
		copy(c.ids, []int32{0, 0, 1, 2, 3})
		col := func() int { return rng.IntN(D) }
		j := col()
		c.g[0*D+j], c.g[1*D+j] = inf, -inf // meet in row 0: NaN
		c.g[2*D+col()] = nan
		c.g[3*D+col()] = inf
		c.g[4*D+col()] = -inf
		if c.opt.HasPadding {
			c.opt.PaddingIdx, c.ids[5] = 4, 4
			for j := range D {
				c.g[5*D+j] = nan // must not reach row 4
			}
		}
		if c.fill == dstRandom {
			c.dst[2*D+col()] = nan
			c.dst[3*D+col()] = -inf
			c.dst[5*D+col()] = math.Float32frombits(0x7fc0beef) // untouched: payload kept
			c.dst[5*D+col()] = inf
		}
		r.Try(c, func() error { return verify(k, c, c.dst, false) })
	}
}

func checkScratch(k embgrad.Kernel, cfg Config, r *report) {
	per := 4
	if cfg.Short {
		per = 2
	}
	for i, D := range suite.Widths {
		for j := range per {
			sh := shapes[(i*4+j)%len(shapes)]
			s := spec{V: sh[0], D: D, N: sh[1], dist: dist((i + j) % int(numDists)), pad: padMode(j % 3), scale: (i+j)%2 == 1, fill: dstGarbage}
			c, ok := build(cfg.Stream("scratch", i*4+j), s)
			if !ok {
				continue
			}
			r.Try(c, func() error {
				if err := verify(k, c, c.dst, true); err != nil {
					return fmt.Errorf("embgrad.Scratch must overwrite dst (want: the oracle from zero): %w", err)
				}
				return nil
			})
		}
	}
}

// heavy returns cases where summation order matters: many real-valued
// duplicates per row.
func heavy(cfg Config, check string) []*tcase {
	N := 1500
	if cfg.Short {
		N = 400
	}
	var cs []*tcase
	for i, D := range []int{16, 33, 65} {
		for j, d := range []dist{same, zipf} {
			s := spec{V: 50, D: D, N: N, dist: d, pad: padMode(j), scale: i%2 == j, fill: dstRandom}
			c, _ := build(cfg.Stream(check, 2*i+j), s)
			cs = append(cs, c)
		}
	}
	return cs
}

func checkRepeat(k embgrad.Kernel, cfg Config, r *report) {
	for _, c := range heavy(cfg, "repeat") {
		r.Try(c, func() error {
			first, err := call(k, c, c.dst, false)
			if err != nil {
				return err
			}
			again, err := call(k, c, c.dst, false)
			if err != nil {
				return err
			}
			return suite.SameBits(again, first, c.D, "(the first of two identical calls)")
		})
	}
}

func checkWorkers(k embgrad.Kernel, cfg Config, r *report) {
	p := k.(embgrad.Parallel)
	for _, c := range heavy(cfg, "workers") {
		r.Try(c, func() error {
			one, _, err := verified(p.WithWorkers(1), c, c.dst, false)
			if err != nil {
				return fmt.Errorf("WithWorkers(1): %w", err)
			}
			for _, n := range []int{2, 3, 4, 7} {
				got, err := call(p.WithWorkers(n), c, c.dst, false)
				if err == nil {
					err = suite.SameBits(got, one, c.D, "(WithWorkers(1))")
				}
				if err != nil {
					return fmt.Errorf("WithWorkers(%d): %w", n, err)
				}
			}
			return nil
		})
	}
}

func checkConcurrent(k embgrad.Kernel, cfg Config, r *report) {
	const goroutines = 4
	n := 16
	if cfg.Short {
		n = 8
	}
	cs := make([]*tcase, n)
	for i := range cs {
		s := spec{V: 100, D: suite.Widths[(3*i)%len(suite.Widths)], N: 300, dist: dist(i % int(numDists)), pad: padMode(i % 3), scale: i%2 == 1, fill: dstRandom}
		var ok bool
		if cs[i], ok = build(cfg.Stream("concurrent", i), s); !ok {
			s.pad = padNone
			cs[i], _ = build(cfg.Stream("concurrent", i), s)
		}
	}
	// Each goroutine reports into its own Report, merged in case order.
	rs := make([]*report, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		rs[g] = r.Sub()
		wg.Go(func() {
			for i := g; i < n; i += goroutines {
				rs[g].Try(cs[i], func() error { return verify(k, cs[i], cs[i].dst, false) })
			}
		})
	}
	wg.Wait()
	for _, s := range rs {
		r.Merge(s)
	}
}
