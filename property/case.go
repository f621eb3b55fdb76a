package property

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
	"github.com/leanovate/gopter"
)

// Case is one Backward call's inputs: dst starts as Dst and receives the
// backward of GradOut (len(IDs)×D) gathered by IDs.
type Case struct {
	V, D    int
	IDs     []int32
	GradOut []float32
	Opt     embgrad.Options
	Dst     []float32 // dst before the call (V×D)

	dyadic bool   // values are k/256 (and counts powers of two when scaled)
	aux    uint64 // seeds the random choices of a relation, so shrinking keeps them

	// overlap makes the call lay an input over dst's tail (an invalid
	// call): with "gradOut", its first n elements are dst's last n; with
	// "ids", all of ids lie in dst's last len(ids) elements, reinterpreted.
	overlap struct {
		with string
		n    int
	}
}

// Size is the case's shape, as a failure names the case first found.
func (c Case) Size() string { return fmt.Sprintf("N=%d V=%d D=%d", len(c.IDs), c.V, c.D) }

// maxShown caps how many entries of a list String prints.
const maxShown = 12

// String is the compact form failures print, e.g.
// V=3 D=1 ids=[0 0] g=[0.5 0.25] pad=- scale=on dst=[0 0 0].
// Rows of width D > 1 are bracketed; long lists end in "… (n in all)".
func (c Case) String() string {
	pad := "-"
	if c.Opt.HasPadding {
		pad = strconv.Itoa(int(c.Opt.PaddingIdx))
	}
	scale := "off"
	if c.Opt.ScaleGradByFreq {
		scale = "on"
	}
	s := fmt.Sprintf("V=%d D=%d ids=%s g=%s pad=%s scale=%s dst=%s",
		c.V, c.D, ints(c.IDs), rows(c.GradOut, c.D), pad, scale, rows(c.Dst, c.D))
	if c.overlap.with != "" {
		s += fmt.Sprintf(" overlap=%s(%d)", c.overlap.with, max(c.overlap.n, len(c.IDs)))
	}
	return s
}

func rows(x []float32, D int) string {
	if D <= 1 {
		return list(len(x), func(i int) string { return float(x[i]) })
	}
	return list((len(x)+D-1)/D, func(r int) string {
		row := x[r*D : min((r+1)*D, len(x))]
		return list(len(row), func(i int) string { return float(row[i]) })
	})
}

func float(x float32) string { return strconv.FormatFloat(float64(x), 'g', -1, 32) }

// list formats n items in brackets, at most maxShown of them: String runs
// on every generated case, so it formats only what it shows.
func list(n int, item func(i int) string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range min(n, maxShown) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(item(i))
	}
	if n > maxShown {
		fmt.Fprintf(&b, " … (%d in all)", n)
	}
	b.WriteByte(']')
	return b.String()
}

// sizes bounds generated shapes.
type sizes struct {
	V, N  int // largest vocabulary and batch
	Elems int // largest V·D and N·D, to keep a run to seconds
}

var (
	full  = sizes{V: 4096, N: 6000, Elems: 1 << 16}
	short = sizes{V: 1024, N: 1024, Elems: 1 << 12} // Config.Short
)

// genCase generates cases with dyadic or real values; its shrinker makes a
// failing case small.
func genCase(kind valueKind, lim sizes) gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		rng := rand.New(rand.NewPCG(p.Rng.Uint64(), p.Rng.Uint64()))
		return gopter.NewGenResult(newCase(rng, kind == dyadicValues, lim), shrinkCase)
	}
}

// newCase draws a shape, an id distribution, options and values.
func newCase(rng *rand.Rand, dyadic bool, lim sizes) Case {
	c := Case{D: suite.Widths[rng.IntN(len(suite.Widths))], dyadic: dyadic, aux: rng.Uint64()}
	c.V = logUniform(rng, min(lim.V, lim.Elems/c.D))
	n := 0
	if rng.IntN(16) != 0 {
		n = logUniform(rng, min(lim.N, lim.Elems/c.D))
	}
	c.IDs = genIDs(rng, c.V, n)
	switch rng.IntN(4) {
	case 0: // a padding row that positions name
		if n > 0 {
			c.Opt = c.Opt.WithPadding(c.IDs[rng.IntN(n)])
		} else {
			c.Opt = c.Opt.WithPadding(int32(rng.IntN(c.V)))
		}
	case 1: // a padding row that no position names, where there is one
		var unused []int32
		used := c.used()
		for v, u := range used {
			if !u {
				unused = append(unused, int32(v))
			}
		}
		if len(unused) > 0 {
			c.Opt = c.Opt.WithPadding(unused[rng.IntN(len(unused))])
		}
	}
	c.Opt.ScaleGradByFreq = rng.IntN(2) == 0
	kind := suite.Wild
	if dyadic {
		kind = suite.Dyadic
	}
	value := func(rng *rand.Rand) float32 { return suite.Value(rng, kind) }
	c.GradOut = make([]float32, len(c.IDs)*c.D)
	for i := range c.GradOut {
		c.GradOut[i] = value(rng)
	}
	c = c.normalize()
	if !dyadic && rng.IntN(4) == 0 {
		// NaN and ±Inf propagate like any value.
		for range 1 + rng.IntN(3) {
			if len(c.GradOut) > 0 {
				c.GradOut[rng.IntN(len(c.GradOut))] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[rng.IntN(3)]
			}
		}
	}
	c.Dst = make([]float32, c.V*c.D)
	if rng.IntN(4) != 0 {
		for i := range c.Dst {
			c.Dst[i] = value(rng)
		}
	}
	return c
}

// logUniform returns an int in [1, hi] whose logarithm is uniform, so small
// and large sizes are both common.
func logUniform(rng *rand.Rand, hi int) int {
	x := int(math.Exp(rng.Float64() * math.Log(float64(hi)+1)))
	return max(1, min(hi, x))
}

// genIDs draws n ids in [0, V) from one of the distributions kernels meet:
// uniform, Zipf-skewed (s = 1.1), all the same, sorted, or only the boundary
// rows 0 and V−1.
func genIDs(rng *rand.Rand, V, n int) []int32 {
	ids := make([]int32, n)
	switch rng.IntN(5) {
	case 0:
		for i := range ids {
			ids[i] = int32(rng.IntN(V))
		}
	case 1:
		cdf := make([]float64, V)
		sum := 0.0
		for r := range cdf {
			sum += math.Pow(float64(r+1), -1.1)
			cdf[r] = sum
		}
		perm := rng.Perm(V) // hot rows anywhere, not only at low ids
		for i := range ids {
			r := sort.SearchFloat64s(cdf, rng.Float64()*sum)
			ids[i] = int32(perm[min(r, V-1)])
		}
	case 2:
		id := int32(rng.IntN(V))
		for i := range ids {
			ids[i] = id
		}
	case 3:
		for i := range ids {
			ids[i] = int32(rng.IntN(V))
		}
		slices.Sort(ids)
	case 4:
		for i := range ids {
			ids[i] = int32((V - 1) * rng.IntN(2))
		}
	}
	return ids
}

// dyadicValue is suite.Dyadic's k/256: sums of thousands of them, scaled
// by powers of two, are exact in float32, so every summation order gives
// the same bits.
func dyadicValue(rng *rand.Rand) float32 { return suite.Value(rng, suite.Dyadic) }

// used reports which rows a position names (padding positions included)
// or the padding option names.
func (c Case) used() []bool {
	u := make([]bool, c.V)
	for _, id := range c.IDs {
		u[id] = true
	}
	if c.Opt.HasPadding {
		u[c.Opt.PaddingIdx] = true
	}
	return u
}

// clone returns a deep copy of c.
func (c Case) clone() Case {
	c.IDs = slices.Clone(c.IDs)
	c.GradOut = slices.Clone(c.GradOut)
	c.Dst = slices.Clone(c.Dst)
	return c
}

// keepPositions returns c with only the positions keep selects.
func (c Case) keepPositions(keep func(i int) bool) Case {
	out := c
	out.IDs, out.GradOut = nil, nil
	for i, id := range c.IDs {
		if keep(i) {
			out.IDs = append(out.IDs, id)
			out.GradOut = append(out.GradOut, c.GradOut[i*c.D:(i+1)*c.D]...)
		}
	}
	return out
}

// normalize restores the invariant of scaled dyadic cases after a change to
// the ids or options: each row's contributing count is cut to a power of two
// (later occurrences dropped), so that 1/count is exact and a scaled sum of
// dyadic values stays exact.
func (c Case) normalize() Case {
	if !c.dyadic || !c.Opt.ScaleGradByFreq {
		return c
	}
	count := make(map[int32]int)
	for _, id := range c.IDs {
		if !c.Opt.Skips(id) {
			count[id]++
		}
	}
	left := make(map[int32]int, len(count))
	for id, n := range count {
		left[id] = 1 << (bits.Len(uint(n)) - 1)
	}
	return c.keepPositions(func(i int) bool {
		id := c.IDs[i]
		if c.Opt.Skips(id) {
			return true
		}
		left[id]--
		return left[id] >= 0
	})
}

// keepRows returns c restricted to the rows keep selects, renumbered in
// order; every row a position or the padding option names must be kept.
func (c Case) keepRows(keep []bool) Case {
	out := c
	newID := make([]int32, c.V)
	out.V, out.Dst = 0, nil
	for v, k := range keep {
		if k {
			newID[v] = int32(out.V)
			out.V++
			out.Dst = append(out.Dst, c.Dst[v*c.D:(v+1)*c.D]...)
		}
	}
	out.IDs = make([]int32, len(c.IDs))
	for i, id := range c.IDs {
		out.IDs[i] = newID[id]
	}
	if c.Opt.HasPadding {
		out.Opt.PaddingIdx = newID[c.Opt.PaddingIdx]
	}
	return out
}

// keepCols returns c with only the columns keep selects.
func (c Case) keepCols(keep func(j int) bool) Case {
	out := c
	out.D = 0
	for j := range c.D {
		if keep(j) {
			out.D++
		}
	}
	cut := func(x []float32) []float32 {
		y := make([]float32, 0, len(x)/c.D*out.D)
		for k, v := range x {
			if keep(k % c.D) {
				y = append(y, v)
			}
		}
		return y
	}
	out.GradOut, out.Dst = cut(c.GradOut), cut(c.Dst)
	return out
}

// shrinkCase proposes smaller or simpler variants of a failing case, most
// drastic first: options off, fewer positions, fewer rows, fewer columns,
// then plainer values (gradient 1, dst 0). Each variant is valid and strictly
// simpler, so shrinking ends.
func shrinkCase(v any) gopter.Shrink {
	c := v.(Case)
	var cands []func() (Case, bool)
	add := func(f func() (Case, bool)) { cands = append(cands, f) }

	if c.Opt.ScaleGradByFreq {
		add(func() (Case, bool) { s := c; s.Opt.ScaleGradByFreq = false; return s, true })
	}
	if c.Opt.HasPadding {
		add(func() (Case, bool) {
			s := c
			s.Opt = embgrad.Options{ScaleGradByFreq: c.Opt.ScaleGradByFreq}
			return s.normalize(), true
		})
	}
	n := len(c.IDs)
	for size := n; size > 0; size /= 2 {
		for lo := 0; lo < n; lo += size {
			hi := min(lo+size, n)
			add(func() (Case, bool) {
				return c.keepPositions(func(i int) bool { return i < lo || i >= hi }).normalize(), true
			})
		}
	}
	used := c.used()
	for size := c.V; size > 0; size /= 2 {
		for lo := 0; lo < c.V; lo += size {
			hi := min(lo+size, c.V)
			add(func() (Case, bool) {
				keep := slices.Clone(used)
				drop := false
				for v := range keep {
					if v < lo || v >= hi {
						keep[v] = true
					} else {
						drop = drop || !keep[v]
					}
				}
				return c.keepRows(keep), drop
			})
		}
	}
	for size := c.D / 2; size > 0; size /= 2 {
		for lo := 0; lo < c.D; lo += size {
			hi := min(lo+size, c.D)
			add(func() (Case, bool) { return c.keepCols(func(j int) bool { return j < lo || j >= hi }), true })
		}
	}
	// Plainer values: the whole slice at once, then (in small cases) one
	// element at a time.
	simplify := func(field func(*Case) []float32, to float32) {
		x := field(&c)
		if !slices.ContainsFunc(x, func(v float32) bool { return v != to }) {
			return
		}
		add(func() (Case, bool) {
			s := c.clone()
			for i := range field(&s) {
				field(&s)[i] = to
			}
			return s, true
		})
		if len(x) > 4*maxShown {
			return
		}
		for i, v := range x {
			if v != to {
				add(func() (Case, bool) { s := c.clone(); field(&s)[i] = to; return s, true })
			}
		}
	}
	simplify(func(c *Case) []float32 { return c.Dst }, 0)
	simplify(func(c *Case) []float32 { return c.GradOut }, 1)

	i := 0
	return func() (any, bool) {
		for i < len(cands) {
			s, ok := cands[i]()
			i++
			if ok {
				return s, true
			}
		}
		return nil, false
	}
}
