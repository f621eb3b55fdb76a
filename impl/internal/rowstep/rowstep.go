// Package rowstep is optim's Rule.Update for the kernels impl/step and
// impl/fused, its element-wise loops run by impl/internal/vec's vector
// primitives (pure Go under the purego tag or EMBGRAD_PUREGO). It gives
// Rule.Update's bits: each primitive's reference loop is Update's loop,
// operation for operation, and the tests compare Update with this
// package's on random and special rows for every optimizer setting.
//
// Row-wise Adagrad's mean square stays a scalar loop: the contract sums
// the squares in ascending j, one rounding per add, so its order is fixed
// and one row's sum is a chain of D dependent adds, bound by the add's
// latency. Group updates up to Group rows at once and runs their chains
// interleaved (independent, so the CPU overlaps them): the same bits per
// row, several times the throughput.
package rowstep

import (
	"math"

	"github.com/embgrad/embgrad/impl/internal/vec"
	"github.com/embgrad/embgrad/optim"
)

const (
	sgd = iota + 1
	adagrad
	adam
)

// Rule is one step's arithmetic (optim.Rule's scalars).
type Rule struct {
	kind uint8
	p    optim.Params
}

// New returns r's vector form.
func New(r optim.Rule) Rule {
	p := r.Params()
	var k uint8
	switch p.Name {
	case "sgd":
		k = sgd
	case "adagrad":
		k = adagrad
	case "adam":
		k = adam
	default:
		panic("rowstep: unknown rule " + p.Name)
	}
	return Rule{kind: k, p: p}
}

// Update is optim's Rule.Update: w and g have D elements, m1 and m2 are the
// row's state (optim.State's Row1, Row2).
func (r *Rule) Update(w, m1, m2, g []float32) {
	g = g[:len(w)]
	p := &r.p
	switch r.kind {
	case sgd:
		if p.WeightDecay == 0 {
			vec.SubScaled(w, g, p.LR)
			return
		}
		vec.SGDDecay(w, g, p.LR, p.WeightDecay)
	case adagrad:
		if len(w) == 0 {
			return
		}
		var s float32
		if p.WeightDecay != 0 && !p.Decoupled {
			s = sumSquaresL2(w, g, p.WeightDecay)
		} else {
			s = sumSquares(g)
		}
		r.adagradFinish(w, m1, g, s)
	case adam:
		vec.Adam(w, m1[:len(w)], m2[:len(w)], g, p.StepSize, p.OneMinusBeta1, p.OneMinusBeta2, p.Eps)
	}
}

// Group is the number of rows UpdateGroup takes at once.
const Group = 4

// Rows is up to Group rows for UpdateGroup: N of them, each with its
// weights, state (Row1, Row2) and gradient, as Update takes them. The rows
// must be distinct.
type Rows struct {
	N            int
	W, M1, M2, G [Group][]float32
}

// UpdateGroup is Update on each of b's rows.
func (r *Rule) UpdateGroup(b *Rows) {
	if r.kind != adagrad || b.N < Group || len(b.W[0]) == 0 {
		for i := range b.N {
			r.Update(b.W[i], b.M1[i], b.M2[i], b.G[i])
		}
		return
	}
	p := &r.p
	var s [Group]float32
	if p.WeightDecay != 0 && !p.Decoupled {
		s = sumSquaresL2x4(&b.W, &b.G, p.WeightDecay)
	} else {
		s = sumSquaresx4(&b.G)
	}
	for i := range Group {
		r.adagradFinish(b.W[i], b.M1[i], b.G[i], s[i])
	}
}

// adagradFinish is Adagrad's Update after the row's sum of squares s.
func (r *Rule) adagradFinish(w, m1, g []float32, s float32) {
	p := &r.p
	G := m1[0] + s/float32(len(w))
	m1[0] = G
	m := p.LR / (float32(math.Sqrt(float64(G))) + p.Eps)
	c := float32(1)
	switch {
	case p.WeightDecay == 0:
	case p.Decoupled:
		c = 1 - float32(p.LR*p.WeightDecay)
	default:
		c = 1 - float32(m*p.WeightDecay)
	}
	vec.ScaleSub(w, g, c, m)
}

// sumSquaresx4 is sumSquares of four rows of equal length, their chains
// interleaved.
func sumSquaresx4(g *[Group][]float32) [Group]float32 {
	g0 := g[0]
	g1, g2, g3 := g[1][:len(g0)], g[2][:len(g0)], g[3][:len(g0)]
	var s0, s1, s2, s3 float32
	for j, x0 := range g0 {
		x1, x2, x3 := g1[j], g2[j], g3[j]
		s0 += float32(x0 * x0)
		s1 += float32(x1 * x1)
		s2 += float32(x2 * x2)
		s3 += float32(x3 * x3)
	}
	return [Group]float32{s0, s1, s2, s3}
}

// sumSquaresL2x4 is sumSquaresL2 of four rows, their chains interleaved.
func sumSquaresL2x4(w, g *[Group][]float32, wd float32) [Group]float32 {
	var s [Group]float32
	n := len(w[0])
	w0, w1, w2, w3 := w[0][:n], w[1][:n], w[2][:n], w[3][:n]
	g0, g1, g2, g3 := g[0][:n], g[1][:n], g[2][:n], g[3][:n]
	var s0, s1, s2, s3 float32
	for j := range n {
		x0 := g0[j] + float32(wd*w0[j])
		x1 := g1[j] + float32(wd*w1[j])
		x2 := g2[j] + float32(wd*w2[j])
		x3 := g3[j] + float32(wd*w3[j])
		s0 += float32(x0 * x0)
		s1 += float32(x1 * x1)
		s2 += float32(x2 * x2)
		s3 += float32(x3 * x3)
	}
	s[0], s[1], s[2], s[3] = s0, s1, s2, s3
	return s
}

// sumSquares is Σ_j float32(g[j]²), j ascending, one rounding per add.
func sumSquares(g []float32) float32 {
	s := float32(0)
	for _, x := range g {
		s += float32(x * x)
	}
	return s
}

// sumSquaresL2 is sumSquares of g + float32(wd·w), the L2-decayed gradient.
func sumSquaresL2(w, g []float32, wd float32) float32 {
	g = g[:len(w)]
	s := float32(0)
	for j, x := range g {
		x = x + float32(wd*w[j])
		s += float32(x * x)
	}
	return s
}

// Prefetch asks the CPU to start loading the row a later Update will touch:
// its weights and, for Adam, its moments (Adagrad's one float per row is
// left to the demand load).
func (r *Rule) Prefetch(w, m1, m2 []float32) {
	vec.Prefetch(w)
	if r.kind == adam {
		vec.Prefetch(m1)
		vec.Prefetch(m2)
	}
}
