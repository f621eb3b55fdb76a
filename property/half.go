package property

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/half"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/embgrad/embgrad/reference"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
)

// HalfKernel is a kernel of both 16-bit forms, which HalfChecks takes.
type HalfKernel interface {
	embgrad.HalfKernel
	embgrad.Half16Kernel
}

// HalfChecks returns the properties of a 16-bit kernel (both forms, both
// formats). The data are dyadic values k/16 with |k| ≤ 4, each row named
// at most 16 times, so every partial sum, in any order, is exact in
// float32 and in bfloat16 and float16 alike; on them:
//
//   - half/exact: both forms give the exact sum bit for bit (one final
//     rounding of an exact value changes nothing, stochastic included);
//   - half/permutation: permuting the (id, gradOut row) pairs changes no bit;
//   - half/batch-split: two calls on the halves of a batch equal one call;
//   - half/scale-pow2: gradOut and dst times 2^e (e in [−4, 4]) scale the
//     result by 2^e exactly;
//   - half/relabel: renaming the rows by a permutation of the vocabulary
//     permutes the result's rows;
//   - half/invalid-input: every invalid input of Validate (ids, lengths,
//     padding, negative V or D, V·D overflow, V above MaxV with D = 0, dst
//     sharing memory with gradOut or ids) and of the 16-bit options (an
//     unknown format or rounding, stochastic rounding into a float32 dst)
//     is rejected by both forms with an error wrapping
//     embgrad.ErrInvalidInput, every buffer unchanged, no panic.
func HalfChecks(k HalfKernel) []NamedCheck {
	p := func(name string, f func(HalfKernel, halfCase) error) NamedCheck {
		return NamedCheck{Name: name, Run: func(cfg Config) error {
			n := tiedCasesFull
			if cfg.Short {
				n = tiedCasesShort
			}
			return suite.ForAll(cfg, name, k.Name(), n, halfGen(), func(c halfCase) error { return f(k, c) })
		}}
	}
	return []NamedCheck{
		p("half/exact", halfExact),
		p("half/permutation", halfPermutation),
		p("half/batch-split", halfBatchSplit),
		p("half/scale-pow2", halfScalePow2),
		p("half/relabel", halfRelabel),
		p("half/invalid-input", halfInvalid),
	}
}

// TestHalf runs HalfChecks(k) as subtests of t.
func TestHalf(t *testing.T, k HalfKernel) {
	t.Helper()
	suite.Test(t, HalfChecks(k))
}

// RunHalf runs HalfChecks(k) with cfg, one result per check.
func RunHalf(k HalfKernel, cfg Config) []Result { return suite.Run(HalfChecks(k), cfg) }

// CheckHalf runs HalfChecks(k) and returns every failure joined.
func CheckHalf(k HalfKernel, cfg Config) error { return suite.Join(RunHalf(k, cfg)) }

// halfCase is a 16-bit call made from its shape and seed (gopter shrinks
// the shape; the data follow).
type halfCase struct {
	V, D, N int
	Seed    uint64
	Opt     embgrad.HalfOptions
	IDs     []int32
	G32     []float32 // gradOut's values (dyadic)
	D32     []float32 // dst's initial values (dyadic)
	Perm    []int     // a permutation of the positions
	Relabel []int     // a permutation of the rows
	Split   int
	Exp     int // the power of two of scale-pow2
}

func halfGen() gopter.Gen {
	return gopter.DeriveGen(
		func(V, D, N int, seed uint64) halfCase { return newHalfCase(V, D, N, seed) },
		func(c halfCase) (int, int, int, uint64) { return c.V, c.D, c.N, c.Seed },
		gen.IntRange(1, 40), gen.IntRange(1, 40), gen.IntRange(0, 64), gen.UInt64(),
	).SuchThat(func(c halfCase) bool { return c.V >= 1 && c.D >= 1 && c.N >= 0 })
}

func newHalfCase(V, D, N int, seed uint64) halfCase {
	c := halfCase{V: V, D: D, N: N, Seed: seed}
	if V < 1 || D < 1 || N < 0 {
		return c
	}
	rng := rand.New(rand.NewPCG(seed, 0x4a1f))
	c.Opt.Format = []embgrad.Format{embgrad.BFloat16, embgrad.Float16}[rng.IntN(2)]
	if rng.IntN(2) == 0 {
		c.Opt.Rounding, c.Opt.Seed = embgrad.Stochastic, rng.Uint64()
	}
	c.IDs = make([]int32, 0, N)
	named := make([]int, V)
	for len(c.IDs) < N {
		id := rng.IntN(V)
		if rng.IntN(2) == 0 {
			id = rng.IntN(min(V, 3)) // duplicates
		}
		if named[id] == 16 {
			if slices.Min(named) == 16 {
				break
			}
			continue
		}
		named[id]++
		c.IDs = append(c.IDs, int32(id))
	}
	c.N = len(c.IDs)
	if rng.IntN(3) == 0 {
		c.Opt.Options = c.Opt.WithPadding(int32(rng.IntN(V)))
	}
	small := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.IntN(9)-4) / 16
		}
		return x
	}
	c.G32, c.D32 = small(c.N*D), small(V*D)
	if rng.IntN(3) == 0 {
		clear(c.D32)
	}
	c.Perm, c.Relabel = rng.Perm(c.N), rng.Perm(V)
	c.Split = rng.IntN(c.N + 1)
	c.Exp = rng.IntN(9) - 4
	return c
}

func (c halfCase) String() string {
	s := c.Size()
	if c.N <= 12 {
		s += " ids=" + ints(c.IDs)
	}
	return s
}

func (c halfCase) Size() string {
	pad := "none"
	if c.Opt.HasPadding {
		pad = fmt.Sprint(c.Opt.PaddingIdx)
	}
	return fmt.Sprintf("V=%d D=%d N=%d pad=%s format=%v rounding=%v seed=%#x", c.V, c.D, c.N, pad, c.Opt.Format, c.Opt.Rounding, c.Seed)
}

func narrowTo(f embgrad.Format, x []float32) []uint16 {
	h := make([]uint16, len(x))
	if f == embgrad.Float16 {
		half.NarrowFloat16(h, x)
	} else {
		half.NarrowBFloat16(h, x)
	}
	return h
}

// both runs the two forms on ids and g from dst (16-bit dst rounded from
// dst, exact on these data) through the guarded calls and returns each
// result widened to float32.
func both(k HalfKernel, c halfCase, dst []float32, ids []int32, g []float32) (f32, h16 []float32, err error) {
	o32 := c.Opt
	o32.Rounding, o32.Seed = embgrad.NearestEven, 0
	f32, err = suite.Half(k, dst, c.V, c.D, ids, narrowTo(c.Opt.Format, g), o32)
	if err != nil {
		return nil, nil, fmt.Errorf("BackwardHalf: %w", suite.Accepted(err))
	}
	d16, err := suite.Half16(k, narrowTo(c.Opt.Format, dst), c.V, c.D, ids, narrowTo(c.Opt.Format, g), c.Opt)
	if err != nil {
		return nil, nil, fmt.Errorf("BackwardHalf16: %w", suite.Accepted(err))
	}
	return f32, reference.Widen(c.Opt.Format, d16), nil
}

func halfExact(k HalfKernel, c halfCase) error {
	want, err := reference.Oracle(c.D32, c.V, c.D, c.IDs, c.G32, c.Opt.Options)
	if err != nil {
		return fmt.Errorf("property bug: the oracle rejected the case: %v", err)
	}
	a, b, err := both(k, c, c.D32, c.IDs, c.G32)
	if err != nil {
		return err
	}
	for e := range a {
		if float64(a[e]) != want.Want[e] || float64(b[e]) != want.Want[e] {
			return fmt.Errorf("row %d col %d: float32 dst %v, 16-bit dst %v, want exactly %v", e/c.D, e%c.D, a[e], b[e], want.Want[e])
		}
	}
	return nil
}

// same compares two results of both.
func same(what string, a1, b1, a2, b2 []float32, D int) error {
	if err := suite.SameBits(a2, a1, D, what); err != nil {
		return fmt.Errorf("float32 dst: %w", err)
	}
	if err := suite.SameBits(b2, b1, D, what); err != nil {
		return fmt.Errorf("16-bit dst: %w", err)
	}
	return nil
}

func halfPermutation(k HalfKernel, c halfCase) error {
	a1, b1, err := both(k, c, c.D32, c.IDs, c.G32)
	if err != nil {
		return err
	}
	ids, g := make([]int32, c.N), make([]float32, c.N*c.D)
	for i, p := range c.Perm {
		ids[i] = c.IDs[p]
		copy(g[i*c.D:(i+1)*c.D], c.G32[p*c.D:(p+1)*c.D])
	}
	a2, b2, err := both(k, c, c.D32, ids, g)
	if err != nil {
		return err
	}
	return same("(the unpermuted batch)", a1, b1, a2, b2, c.D)
}

func halfBatchSplit(k HalfKernel, c halfCase) error {
	c.Opt.ScaleGradByFreq = false // counts differ between halves
	a1, b1, err := both(k, c, c.D32, c.IDs, c.G32)
	if err != nil {
		return err
	}
	s := c.Split
	a2, b2, err := both(k, c, c.D32, c.IDs[:s], c.G32[:s*c.D])
	if err != nil {
		return err
	}
	// Feed the first half's results as the next dst: the 16-bit one as it is.
	a3, _, err := both(k, c, a2, c.IDs[s:], c.G32[s*c.D:])
	if err != nil {
		return err
	}
	_, b3, err := both(k, c, b2, c.IDs[s:], c.G32[s*c.D:])
	if err != nil {
		return err
	}
	return same("(one call on the whole batch)", a1, b1, a3, b3, c.D)
}

func halfScalePow2(k HalfKernel, c halfCase) error {
	a1, b1, err := both(k, c, c.D32, c.IDs, c.G32)
	if err != nil {
		return err
	}
	sc := func(x []float32) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(math.Ldexp(float64(v), c.Exp))
		}
		return y
	}
	a2, b2, err := both(k, c, sc(c.D32), c.IDs, sc(c.G32))
	if err != nil {
		return err
	}
	return same(fmt.Sprintf("(the unscaled result times 2^%d)", c.Exp), sc(a1), sc(b1), a2, b2, c.D)
}

func halfRelabel(k HalfKernel, c halfCase) error {
	a1, b1, err := both(k, c, c.D32, c.IDs, c.G32)
	if err != nil {
		return err
	}
	ids := make([]int32, c.N)
	for i, id := range c.IDs {
		ids[i] = int32(c.Relabel[id])
	}
	move := func(x []float32) []float32 {
		y := make([]float32, len(x))
		for v := range c.V {
			copy(y[c.Relabel[v]*c.D:(c.Relabel[v]+1)*c.D], x[v*c.D:(v+1)*c.D])
		}
		return y
	}
	d := c
	if c.Opt.HasPadding {
		d.Opt.PaddingIdx = int32(c.Relabel[c.Opt.PaddingIdx])
	}
	a2, b2, err := both(k, d, move(c.D32), ids, c.G32)
	if err != nil {
		return err
	}
	return same("(the original result, rows relabelled)", move(a1), move(b1), a2, b2, c.D)
}

// halfBad is an invalid 16-bit call laid out in shared memory: dst and
// gradOut windows into one 16-bit allocation (a float32 dst reinterprets
// it), ids in an int32 one or over dst.
type halfBad struct {
	name      string
	V, D      int
	opt       embgrad.HalfOptions
	dst, grad [2]int // windows into the 16-bit allocation (a float32 dst: in float32 units)
	ids       [2]int
	idsOverD  bool // ids laid over the 16-bit allocation (overlapping dst)
	idsAt     func([]int32)
}

func (c halfBad) String() string { return c.name }

func halfInvalid(k HalfKernel, c halfCase) error {
	const V, D, N = 6, 2, 4
	ok := halfBad{V: V, D: D, opt: embgrad.HalfOptions{Format: c.Opt.Format}, dst: [2]int{0, V * D}, grad: [2]int{2 * V * D, 2*V*D + N*D}, ids: [2]int{0, N}}
	with := func(name string, f func(*halfBad)) halfBad { b := ok; b.name = name; f(&b); return b }
	cases := []halfBad{
		with("id = V", func(b *halfBad) { b.idsAt = func(ids []int32) { ids[N-1] = V } }),
		with("negative id", func(b *halfBad) { b.idsAt = func(ids []int32) { ids[1] = -1 } }),
		with("id MinInt32", func(b *halfBad) { b.idsAt = func(ids []int32) { ids[2] = math.MinInt32 } }),
		with("short dst", func(b *halfBad) { b.dst[1]-- }),
		with("long dst", func(b *halfBad) { b.dst[1]++ }),
		with("short gradOut", func(b *halfBad) { b.grad[1]-- }),
		with("long gradOut", func(b *halfBad) { b.grad[1]++ }),
		with("padding = V", func(b *halfBad) { b.opt.Options = b.opt.WithPadding(V) }),
		with("padding < 0", func(b *halfBad) { b.opt.Options = b.opt.WithPadding(-1) }),
		with("negative V", func(b *halfBad) { b.V = -V }),
		with("negative D", func(b *halfBad) { b.D = -D }),
		with("V*D overflows", func(b *halfBad) { b.V = math.MaxInt/D + 1 }),
		with("D = 0, V above MaxV", func(b *halfBad) { b.D, b.V, b.dst, b.grad = 0, embgrad.MaxV+1, [2]int{0, 0}, [2]int{0, 0} }),
		with("zero format", func(b *halfBad) { b.opt.Format = 0 }),
		with("unknown format", func(b *halfBad) { b.opt.Format = 3 }),
		with("unknown rounding", func(b *halfBad) { b.opt.Rounding = 2 }),
		with("dst overlaps gradOut", func(b *halfBad) { b.grad = [2]int{V*D - 1, V*D - 1 + N*D} }),
		with("dst overlaps ids", func(b *halfBad) { b.idsOverD = true; b.ids = [2]int{0, N} }),
	}
	var errs []error
	for _, b := range cases {
		if err := halfRejects(k, b, false); err != nil {
			errs = append(errs, fmt.Errorf("%s: BackwardHalf16: %w", b.name, err))
		}
		if err := halfRejects(k, b, true); err != nil {
			errs = append(errs, fmt.Errorf("%s: BackwardHalf: %w", b.name, err))
		}
	}
	st := with("stochastic into float32", func(b *halfBad) { b.opt.Rounding = embgrad.Stochastic })
	if err := halfRejects(k, st, true); err != nil {
		errs = append(errs, fmt.Errorf("%s: BackwardHalf: %w", st.name, err))
	}
	return errors.Join(errs...)
}

// halfRejects makes the call b describes (into a float32 dst when f32) and
// requires an error wrapping ErrInvalidInput with all memory unchanged.
func halfRejects(k HalfKernel, b halfBad, f32 bool) error {
	mem := make([]uint16, 128)
	for i := range mem {
		mem[i] = uint16(0x3c00 + i) // ordinary values in both formats
	}
	ints := make([]int32, 16)
	for i := range ints {
		ints[i] = int32(i % 3)
	}
	var ids []int32
	if b.idsOverD {
		ids = unsafe.Slice((*int32)(unsafe.Pointer(&mem[0])), 32)[b.ids[0]:b.ids[1]]
		for i := range ids {
			ids[i] = int32(i % 3)
		}
	} else {
		ids = ints[b.ids[0]:b.ids[1]]
	}
	if b.idsAt != nil {
		b.idsAt(ids)
	}
	g := mem[b.grad[0]:b.grad[1]]
	mem0, ints0 := slices.Clone(mem), slices.Clone(ints)
	err := suite.Protect(func() error {
		if f32 {
			d := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), 64)[b.dst[0]/2 : b.dst[0]/2+(b.dst[1]-b.dst[0])]
			if b.name == "dst overlaps gradOut" {
				g = mem[2*len(d)-1 : 2*len(d)-1+len(g)] // gradOut starts in the float32 dst's last element
			}
			return k.BackwardHalf(d, b.V, b.D, ids, g, b.opt)
		}
		return k.BackwardHalf16(mem[b.dst[0]:b.dst[1]], b.V, b.D, ids, g, b.opt)
	})
	switch {
	case suite.IsViolation(err, suite.Panicked):
		return err
	case err == nil:
		return errors.New("accepted invalid input")
	case !errors.Is(err, embgrad.ErrInvalidInput):
		return fmt.Errorf("error %q does not wrap ErrInvalidInput", err)
	}
	if !slices.Equal(mem, mem0) || !slices.Equal(ints, ints0) {
		return fmt.Errorf("rejected the input (%v) but changed memory", err)
	}
	return nil
}
