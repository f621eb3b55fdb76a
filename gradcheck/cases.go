package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/embgrad/embgrad"
	"github.com/embgrad/embgrad/internal/suite"
)

type dist int

const (
	uniform  dist = iota
	zipf          // Zipf s=1.1 over a shuffled vocabulary
	same          // every position names one row
	boundary      // only rows 0 and V−1
	numDists

	distinct = numDists // each row at most once (N ≤ V); not in the matrix
)

func (d dist) String() string {
	return [...]string{"uniform", "zipf", "same", "boundary", "distinct"}[d]
}

type padMode int

const (
	padNone     padMode = iota
	padHit              // the padding row occurs in ids
	padNeverHit         // padding is set to a row that ids never name
	numPadModes
)

type dstMode int

const (
	dstZero   dstMode = iota
	dstRandom         // normal values, some ±0
	numDstModes

	dstGarbage = numDstModes // NaN, ±Inf, huge: what scratch mode must overwrite; not in the matrix
)

func (m dstMode) String() string { return [...]string{"zero", "random", "garbage"}[m] }

// spec is the shape of a case; build draws its data.
type spec struct {
	V, D, N int
	dist    dist
	pad     padMode
	scale   bool
	fill    dstMode // dst's initial content
}

// tcase is one Backward call's inputs. dst is its initial content.
type tcase struct {
	spec
	ids []int32
	g   []float32
	dst []float32
	opt embgrad.Options
}

// String is the case as a failure message names it.
func (c *tcase) String() string { return c.shape() + " dst=" + c.fill.String() }

// shape is the case without dst's initial content.
func (c *tcase) shape() string {
	pad := "none"
	if c.opt.HasPadding {
		kind := "hit"
		if c.pad == padNeverHit {
			kind = "never-hit"
		}
		pad = fmt.Sprintf("%s(%d)", kind, c.opt.PaddingIdx)
	}
	scale := "off"
	if c.opt.ScaleGradByFreq {
		scale = "on"
	}
	return fmt.Sprintf("V=%d D=%d N=%d dist=%v pad=%s scale=%s", c.V, c.D, c.N, c.dist, pad, scale)
}

// build draws a case for s. It reports false when s cannot be met (a
// padding row that is never hit when ids name every row).
func build(rng *rand.Rand, s spec) (*tcase, bool) {
	c := &tcase{spec: s, ids: make([]int32, s.N), g: make([]float32, s.N*s.D), dst: make([]float32, s.V*s.D)}
	switch s.dist {
	case uniform:
		for i := range c.ids {
			c.ids[i] = int32(rng.IntN(s.V))
		}
	case zipf:
		perm := rng.Perm(s.V)
		z := rand.NewZipf(rng, 1.1, 1, uint64(s.V-1))
		for i := range c.ids {
			c.ids[i] = int32(perm[z.Uint64()])
		}
	case same:
		id := int32(rng.IntN(s.V))
		for i := range c.ids {
			c.ids[i] = id
		}
	case boundary:
		for i := range c.ids {
			c.ids[i] = int32(rng.IntN(2) * (s.V - 1))
		}
	case distinct:
		for i, v := range rng.Perm(s.V)[:s.N] {
			c.ids[i] = int32(v)
		}
	}
	switch s.pad {
	case padHit:
		p := int32(rng.IntN(s.V))
		if s.N > 0 {
			p = c.ids[rng.IntN(s.N)]
		}
		c.opt = c.opt.WithPadding(p)
	case padNeverHit:
		var free []int32
		for v := range int32(s.V) {
			if !slices.Contains(c.ids, v) {
				free = append(free, v)
			}
		}
		if len(free) == 0 {
			return nil, false
		}
		c.opt = c.opt.WithPadding(free[rng.IntN(len(free))])
	}
	c.opt.ScaleGradByFreq = s.scale
	c.g = suite.Fill(rng, len(c.g), suite.Normal)
	switch s.fill {
	case dstRandom:
		for k := range c.dst {
			c.dst[k] = suite.Value(rng, suite.Normal)
			if rng.IntN(16) == 0 {
				c.dst[k] = float32(math.Copysign(0, float64(c.dst[k]))) // ±0: untouched rows keep the sign
			}
		}
	case dstGarbage:
		junk := []float32{math.Float32frombits(0x7fc0dead), float32(math.Inf(1)), float32(math.Inf(-1)),
			math.MaxFloat32, -math.MaxFloat32, float32(math.Copysign(0, -1)), 1e-45}
		for k := range c.dst {
			c.dst[k] = junk[rng.IntN(len(junk))]
		}
	}
	return c, true
}

// shapes are the (V, N) pairs the matrix cycles through: N=0, V=1, a single
// position, few rows with many duplicates, many rows with few.
var shapes = [][2]int{{1, 0}, {1, 6}, {2, 9}, {3, 1}, {17, 40}, {64, 0}, {100, 257}, {300, 20}, {50, 700}, {500, 5}, {8, 1}}

// matrix returns the specs of the oracle check: every width with every
// combination of distribution, padding, scaling and dst mode, the shape
// rotating through shapes. Under Short only those for which inShort holds
// run; a case's index, and so its data, is the same either way.
func matrix() []spec {
	var out []spec
	for wi, D := range suite.Widths {
		for c := range combos {
			sh := shapes[(wi*combos+c)%len(shapes)]
			x := c
			s := spec{V: sh[0], D: D, N: sh[1]}
			s.dist, x = dist(x%int(numDists)), x/int(numDists)
			s.pad, x = padMode(x%int(numPadModes)), x/int(numPadModes)
			s.scale, x = x%2 == 1, x/2
			s.fill = dstMode(x)
			out = append(out, s)
		}
	}
	return out
}

const combos = int(numDists) * int(numPadModes) * 2 * int(numDstModes)

// inShort selects an eighth of the combinations per width, rotating with
// the width so that every combination still occurs.
func inShort(i int) bool { return i%combos%8 == i/combos%8 }
