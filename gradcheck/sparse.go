package gradcheck

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// SparseChecks returns the sparse-gradient suite for k:
//
//   - sparse/oracle: over the oracle matrix (zero-dst cases), rows exactly
//     the distinct non-padding ids ascending and values within
//     reference.SparseOracle's bound; buffers larger than needed, prefilled,
//     keep everything past U bit-for-bit; guard bands and read-only inputs
//     through the guarded call;
//   - sparse/all-padding: a batch of padding (or no ids) gives U = 0 and
//     writes nothing;
//   - sparse/exact: distinct ids give their gradOut rows bit-for-bit,
//     scaled or not;
//   - sparse/nonfinite: wild values with NaN and ±Inf in gradOut propagate
//     (within the oracle's rules), padding positions swallowing them;
//   - sparse/invalid-input: bad ids, lengths, padding, MaxV and too-small
//     buffers give an error wrapping embgrad.ErrInvalidInput, U = 0 and
//     unchanged memory;
//   - sparse/invalid-overlap: so do outputs sharing memory with an input
//     or each other (not applicable to a suite.Boundary kernel);
//   - sparse/repeat: the same call twice gives the same bits, and an
//     embgrad.SparseParallel kernel the same bits at 1, 2, 3 and 8 workers.
func SparseChecks(k embgrad.SparseKernel) []NamedCheck {
	sp := func(name string, f func(embgrad.SparseKernel, Config, *report)) NamedCheck {
		return suite.NewCheck(name, k.Name(), func(cfg Config, r *report) { f(k, cfg, r) })
	}
	return []NamedCheck{
		sp("sparse/oracle", sparseOracle),
		sp("sparse/all-padding", sparseAllPadding),
		sp("sparse/exact", sparseExact),
		sp("sparse/nonfinite", sparseNonfinite),
		sp("sparse/invalid-input", sparseInvalid),
		suite.Needs(sp("sparse/invalid-overlap", sparseOverlap), k, suite.Aliasing),
		sp("sparse/repeat", sparseRepeat),
	}
}

// TestSparse runs SparseChecks(k) as subtests of t.
func TestSparse(t *testing.T, k embgrad.SparseKernel) {
	t.Helper()
	suite.Test(t, SparseChecks(k))
}

// CheckSparse runs SparseChecks(k) with cfg and returns every failure joined.
func CheckSparse(k embgrad.SparseKernel, cfg Config) error { return suite.Join(RunSparse(k, cfg)) }

// RunSparse runs SparseChecks(k) with cfg, one result per check.
func RunSparse(k embgrad.SparseKernel, cfg Config) []Result { return suite.Run(SparseChecks(k), cfg) }

// sparseSentinel fills the part of the output buffers a kernel must not
// write (past U).
const sparseSentinel = -0x5afe

// sparseRun calls k on c through the guarded call with buffers extra
// elements longer than needed, prefilled, and checks the result against the
// oracle and the tails past U unchanged. It returns rows[:U], values[:U*D].
func sparseRun(k embgrad.SparseKernel, c *tcase, extra int) ([]int32, []float32, error) {
	want, err := reference.SparseOracle(c.V, c.D, c.ids, c.g, c.opt)
	if err != nil {
		return nil, nil, fmt.Errorf("gradcheck bug: the oracle rejected the case: %v", err)
	}
	rows0 := make([]int32, c.N+extra)
	for i := range rows0 {
		rows0[i] = sparseSentinel
	}
	vals0 := make([]float32, (c.N+extra)*c.D)
	for i := range vals0 {
		vals0[i] = float32(i%7) - 3.5
	}
	rows, vals, u, err := suite.Sparse(k, rows0, vals0, c.V, c.D, c.ids, c.g, c.opt)
	if err != nil {
		return nil, nil, suite.Accepted(err)
	}
	if err := want.Check(rows, vals, u); err != nil {
		return nil, nil, err
	}
	if i := slices.IndexFunc(rows[u:], func(r int32) bool { return r != sparseSentinel }); i >= 0 {
		return nil, nil, fmt.Errorf("wrote rows[%d] = %d past U = %d", u+i, rows[u+i], u)
	}
	if i := suite.FirstDiff(vals[u*c.D:], vals0[u*c.D:]); i >= 0 {
		return nil, nil, fmt.Errorf("wrote values[%d] = %v past U*D = %d*%d", u*c.D+i, vals[u*c.D+i], u, c.D)
	}
	return rows[:u], vals[:u*c.D], nil
}

func sparseOracle(k embgrad.SparseKernel, cfg Config, r *report) {
	for i, s := range matrix() {
		if s.fill != dstZero || (cfg.Short && !inShort(i)) {
			continue
		}
		if c, ok := build(cfg.Stream("sparse/oracle", i), s); ok {
			r.Try(c, func() error { _, _, err := sparseRun(k, c, i%3); return err })
		}
	}
}

func sparseAllPadding(k embgrad.SparseKernel, cfg Config, r *report) {
	for i, D := range suite.Widths {
		for _, N := range []int{0, 1, 9} {
			rng := cfg.Stream("sparse/all-padding", i*3+N)
			V := 1 + rng.IntN(20)
			s := spec{V: V, D: D, N: N, dist: same, pad: padHit, scale: N == 9}
			c, _ := build(rng, s)
			r.Try(c, func() error {
				rows, _, err := sparseRun(k, c, 2)
				if err == nil && len(rows) != 0 {
					err = fmt.Errorf("U = %d, want 0", len(rows))
				}
				return err
			})
		}
	}
}

func sparseExact(k embgrad.SparseKernel, cfg Config, r *report) {
	for i, D := range suite.Widths {
		for _, scale := range []bool{false, true} {
			rng := cfg.Stream("sparse/exact", 2*i+btoi(scale))
			s := spec{V: 40, D: D, N: 1 + rng.IntN(40), dist: distinct, scale: scale}
			c, _ := build(rng, s)
			r.Try(c, func() error {
				rows, vals, err := sparseRun(k, c, 0)
				if err != nil {
					return err
				}
				for u, row := range rows {
					i := slices.Index(c.ids, row)
					if k := suite.FirstDiff(vals[u*D:(u+1)*D], c.g[i*D:(i+1)*D]); k >= 0 {
						return fmt.Errorf("row %d (a single occurrence) col %d: got %v, want exactly %v", row, k, vals[u*D+k], c.g[i*D+k])
					}
				}
				return nil
			})
		}
	}
}

func sparseNonfinite(k embgrad.SparseKernel, cfg Config, r *report) {
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for i, D := range suite.Widths {
		rng := cfg.Stream("sparse/nonfinite", i)
		s := spec{V: 20, D: D, N: 60, dist: zipf, pad: padHit, scale: i%2 == 1}
		c, _ := build(rng, s)
		c.g = suite.Fill(rng, len(c.g), suite.Wild)
		for n := 0; n < len(c.g)/8+1 && len(c.g) > 0; n++ {
			c.g[rng.IntN(len(c.g))] = bad[rng.IntN(len(bad))]
		}
		r.Try(c, func() error { _, _, err := sparseRun(k, c, 1); return err })
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sparseRepeat(k embgrad.SparseKernel, cfg Config, r *report) {
	for i, D := range suite.Widths {
		rng := cfg.Stream("sparse/repeat", i)
		s := spec{V: 30, D: D, N: 200, dist: zipf, scale: i%2 == 1}
		c, _ := build(rng, s)
		r.Try(c, func() error {
			r1, v1, err := sparseRun(k, c, 0)
			if err != nil {
				return err
			}
			r2, v2, err := sparseRun(k, c, 0)
			if err != nil {
				return err
			}
			if !slices.Equal(r1, r2) || suite.FirstDiff(v1, v2) >= 0 {
				return errors.New("two identical calls gave different bits")
			}
			if p, ok := k.(embgrad.SparseParallel); ok {
				for _, n := range []int{1, 2, 3, 8} {
					rn, vn, err := sparseRun(p.WithSparseWorkers(n), c, 0)
					if err != nil {
						return fmt.Errorf("%d workers: %w", n, err)
					}
					if !slices.Equal(rn, r1) || suite.FirstDiff(vn, v1) >= 0 {
						return fmt.Errorf("%d workers gave different bits than the kernel as given", n)
					}
				}
			}
			return nil
		})
	}
}

// sparseBad is an invalid sparse call laid out in shared memory: rows and
// ids in one int32 allocation, values and gradOut in one float32
// allocation, windows chosen by the case, so overlaps are expressible.
type sparseBad struct {
	name string
	V, D int
	opt  embgrad.Options
	// windows [lo, hi) into the int32 and float32 allocations
	rows, ids, vals, grad [2]int
	idsAt                 func(ids []int32) // sets ids (valid by default)
	valsInInts            bool              // values laid over the int32 allocation (overlapping rows)
}

func (c sparseBad) String() string { return c.name }

func sparseInvalid(k embgrad.SparseKernel, cfg Config, r *report) {
	cases := sparseInvalidCases()
	for i, c := range cases[:len(cases)-sparseOverlaps] {
		r.Try(c, func() error { return sparseInvalidOne(k, c, cfg.Stream("sparse/invalid-input", i).Uint64()) })
	}
}

// sparseInvalidCases are the invalid calls of sparse/invalid-input and
// sparse/invalid-overlap.
func sparseInvalidCases() []sparseBad {
	const V, D, N = 10, 3, 4
	ok := sparseBad{V: V, D: D, rows: [2]int{0, N}, ids: [2]int{N, 2 * N}, vals: [2]int{0, N * D}, grad: [2]int{N * D, 2 * N * D}}
	with := func(name string, f func(*sparseBad)) sparseBad { c := ok; c.name = name; f(&c); return c }
	cases := []sparseBad{
		with("id = V", func(c *sparseBad) { c.idsAt = func(ids []int32) { ids[2] = V } }),
		with("negative id", func(c *sparseBad) { c.idsAt = func(ids []int32) { ids[1] = -1 } }),
		with("short gradOut", func(c *sparseBad) { c.grad[1]-- }),
		with("long gradOut", func(c *sparseBad) { c.grad[1]++ }),
		with("rows too small", func(c *sparseBad) { c.rows[1]-- }),
		with("values too small", func(c *sparseBad) { c.vals[1]-- }),
		with("padding = V", func(c *sparseBad) { c.opt = c.opt.WithPadding(V) }),
		with("padding < 0", func(c *sparseBad) { c.opt = c.opt.WithPadding(-1) }),
		with("negative D", func(c *sparseBad) { c.D = -1 }),
		with("V above MaxV", func(c *sparseBad) { c.V = embgrad.MaxV + 1 }),
		// sparse/invalid-overlap's, from the same streams: a kernel behind a
		// process boundary never sees buffers share memory (suite.Needs).
		with("rows overlap ids", func(c *sparseBad) { c.ids = [2]int{N - 1, 2*N - 1} }),
		with("values overlap gradOut", func(c *sparseBad) { c.grad = [2]int{N*D - 1, 2*N*D - 1} }),
		with("values overlap rows", func(c *sparseBad) { c.valsInInts = true; c.ids = [2]int{N * D, N*D + N} }),
	}
	return cases
}

// sparseOverlaps is how many of sparseInvalidCases' last cases lay
// buffers over one another.
const sparseOverlaps = 3

// sparseOverlap checks that outputs sharing memory with an input or with
// each other are rejected as sparseInvalid's other cases are.
func sparseOverlap(k embgrad.SparseKernel, cfg Config, r *report) {
	cases := sparseInvalidCases()
	for i := len(cases) - sparseOverlaps; i < len(cases); i++ {
		c := cases[i]
		r.Try(c, func() error { return sparseInvalidOne(k, c, cfg.Stream("sparse/invalid-input", i).Uint64()) })
	}
}

func sparseInvalidOne(k embgrad.SparseKernel, c sparseBad, seed uint64) error {
	ints := make([]int32, 64)
	floats := make([]float32, 64)
	for i := range ints {
		ints[i] = int32(i % 10)
		floats[i] = float32(seed%1000)/64 - float32(i)
	}
	ids := ints[c.ids[0]:c.ids[1]]
	if c.idsAt != nil {
		c.idsAt(ids)
	}
	rows := ints[c.rows[0]:c.rows[1]]
	vals := floats[c.vals[0]:c.vals[1]]
	if c.valsInInts {
		vals = unsafeFloats(ints[c.vals[0]:c.vals[1]])
	}
	g := floats[c.grad[0]:c.grad[1]]
	ints0, floats0 := slices.Clone(ints), slices.Clone(floats)
	var u int
	err := suite.Protect(func() (err error) { u, err = k.Sparse(rows, vals, c.V, c.D, ids, g, c.opt); return err })
	switch {
	case suite.IsViolation(err, suite.Panicked):
		return err
	case err == nil:
		return fmt.Errorf("accepted invalid input (U = %d)", u)
	case !errors.Is(err, embgrad.ErrInvalidInput):
		return fmt.Errorf("error %q does not wrap ErrInvalidInput", err)
	case u != 0:
		return fmt.Errorf("returned U = %d with an error", u)
	}
	if !slices.Equal(ints, ints0) {
		return fmt.Errorf("rejected the input (%v) but changed rows or ids", err)
	}
	for i := range floats {
		if math.Float32bits(floats[i]) != math.Float32bits(floats0[i]) {
			return fmt.Errorf("rejected the input (%v) but changed values or gradOut", err)
		}
	}
	return nil
}

// unsafeFloats reinterprets int32 memory as float32, for an output laid
// over another.
func unsafeFloats(x []int32) []float32 {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&x[0])), len(x))
}
