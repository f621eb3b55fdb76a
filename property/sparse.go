package property

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
)

// SparseChecks returns the sparse-gradient properties of k, each checked by
// gopter on random cases on dyadic data (suite.Dyadic, no scaling), where
// every float32 sum is exact in any order, so each relation holds bitwise.
// Every call runs through the guarded call (guard bands on rows and values,
// read-only copies of ids and gradOut).
//
//   - sparse/exact-sum: Densify of the result into a zero dst is the float64
//     backward (reference.Backward64) rounded, and the rows are exactly the
//     rows it touches, ascending;
//   - sparse/permutation: permuting the (id, gradOut row) pairs changes
//     nothing;
//   - sparse/batch-split: the results of the two halves of a batch,
//     densified into one dst, equal the whole batch's.
func SparseChecks(k embgrad.SparseKernel) []NamedCheck {
	return []NamedCheck{
		sparseProp("sparse/exact-sum", k, sparseExactSum),
		sparseProp("sparse/permutation", k, sparsePermutation),
		sparseProp("sparse/batch-split", k, sparseBatchSplit),
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

func sparseProp(name string, k embgrad.SparseKernel, f func(embgrad.SparseKernel, sparseCase) error) NamedCheck {
	return NamedCheck{Name: name, Run: func(cfg Config) error {
		n := tiedCasesFull
		if cfg.Short {
			n = tiedCasesShort
		}
		return suite.ForAll(cfg, name, k.Name(), n, sparseGen(), func(c sparseCase) error { return f(k, c) })
	}}
}

// sparseCase is one sparse call, made from its shape and seed so that
// gopter shrinks the shape and the data follows.
type sparseCase struct {
	V, D, N int
	Seed    uint64
	Opt     embgrad.Options
	IDs     []int32
	GradOut []float32
	Perm    []int // a permutation of the positions
	Split   int   // where the batch is cut
}

func sparseGen() gopter.Gen {
	return gopter.DeriveGen(
		func(V, D, N int, seed uint64) sparseCase { return newSparseCase(V, D, N, seed) },
		func(c sparseCase) (int, int, int, uint64) { return c.V, c.D, c.N, c.Seed },
		gen.IntRange(1, 120), gen.IntRange(1, 40), gen.IntRange(0, 60), gen.UInt64(),
	).SuchThat(func(c sparseCase) bool { return c.V >= 1 && c.D >= 1 && c.N >= 0 })
}

func newSparseCase(V, D, N int, seed uint64) sparseCase {
	c := sparseCase{V: V, D: D, N: N, Seed: seed}
	if V < 1 || D < 1 || N < 0 {
		return c
	}
	rng := rand.New(rand.NewPCG(seed, 0x5ba45e))
	rows := V
	if rng.IntN(2) == 0 {
		rows = 1 + rng.IntN(min(V, 4)) // many duplicates
	}
	c.IDs = make([]int32, N)
	for i := range c.IDs {
		c.IDs[i] = int32(rng.IntN(rows))
	}
	if rng.IntN(3) == 0 {
		c.Opt = c.Opt.WithPadding(int32(rng.IntN(min(V, rows+1))))
	}
	c.GradOut = suite.Fill(rng, N*D, suite.Dyadic)
	c.Perm = rng.Perm(N)
	c.Split = rng.IntN(N + 1)
	return c
}

func (c sparseCase) String() string {
	s := c.Size()
	if c.N <= 12 {
		s += " ids=" + ints(c.IDs)
	}
	return s
}

func (c sparseCase) Size() string {
	pad := "none"
	if c.Opt.HasPadding {
		pad = fmt.Sprint(c.Opt.PaddingIdx)
	}
	return fmt.Sprintf("V=%d D=%d N=%d pad=%s seed=%#x", c.V, c.D, c.N, pad, c.Seed)
}

// sparseDense runs k on ids and gradOut through the guarded call and adds
// the result into dst with embgrad.Densify.
func sparseDense(k embgrad.SparseKernel, dst []float32, c sparseCase, ids []int32, g []float32) error {
	rows, vals, u, err := suite.Sparse(k, make([]int32, len(ids)), make([]float32, len(g)), c.V, c.D, ids, g, c.Opt)
	if err != nil {
		return suite.Accepted(err)
	}
	if u < 0 || u > len(ids) {
		return fmt.Errorf("U = %d is outside [0, len(ids) = %d]", u, len(ids))
	}
	if err := embgrad.Densify(dst, c.V, c.D, rows, vals, u); err != nil {
		return fmt.Errorf("the result is not a valid sparse gradient: %w", err)
	}
	return nil
}

func sparseExactSum(k embgrad.SparseKernel, c sparseCase) error {
	want64 := make([]float64, c.V*c.D)
	g64 := make([]float64, len(c.GradOut))
	for i, x := range c.GradOut {
		g64[i] = float64(x)
	}
	reference.Backward64(want64, c.V, c.D, c.IDs, g64, c.Opt)
	got := make([]float32, c.V*c.D)
	if err := sparseDense(k, got, c, c.IDs, c.GradOut); err != nil {
		return err
	}
	for e, w := range want64 {
		if got[e] != float32(w) {
			return fmt.Errorf("densified [%d,%d] = %v, want exactly %v", e/c.D, e%c.D, got[e], float32(w))
		}
	}
	rows, _, u, err := suite.Sparse(k, make([]int32, c.N), make([]float32, c.N*c.D), c.V, c.D, c.IDs, c.GradOut, c.Opt)
	if err != nil {
		return suite.Accepted(err)
	}
	want := []int32{}
	for v, n := range reference.Counts(c.V, c.IDs, c.Opt) {
		if n > 0 {
			want = append(want, int32(v))
		}
	}
	if !slices.Equal(rows[:u], want) {
		return fmt.Errorf("rows %v, want %v", rows[:u], want)
	}
	return nil
}

func sparsePermutation(k embgrad.SparseKernel, c sparseCase) error {
	ids := make([]int32, c.N)
	g := make([]float32, c.N*c.D)
	for i, p := range c.Perm {
		ids[i] = c.IDs[p]
		copy(g[i*c.D:(i+1)*c.D], c.GradOut[p*c.D:(p+1)*c.D])
	}
	a, b := make([]float32, c.V*c.D), make([]float32, c.V*c.D)
	if err := sparseDense(k, a, c, c.IDs, c.GradOut); err != nil {
		return err
	}
	if err := sparseDense(k, b, c, ids, g); err != nil {
		return err
	}
	if e := suite.FirstDiff(a, b); e >= 0 {
		return fmt.Errorf("permuted batch differs at [%d,%d]: %v vs %v", e/c.D, e%c.D, b[e], a[e])
	}
	return nil
}

func sparseBatchSplit(k embgrad.SparseKernel, c sparseCase) error {
	whole, parts := make([]float32, c.V*c.D), make([]float32, c.V*c.D)
	if err := sparseDense(k, whole, c, c.IDs, c.GradOut); err != nil {
		return err
	}
	m := c.Split
	if err := sparseDense(k, parts, c, c.IDs[:m], c.GradOut[:m*c.D]); err != nil {
		return err
	}
	if err := sparseDense(k, parts, c, c.IDs[m:], c.GradOut[m*c.D:]); err != nil {
		return err
	}
	if e := suite.FirstDiff(whole, parts); e >= 0 {
		return fmt.Errorf("halves split at %d differ at [%d,%d]: %v vs %v", m, e/c.D, e%c.D, parts[e], whole[e])
	}
	return nil
}
