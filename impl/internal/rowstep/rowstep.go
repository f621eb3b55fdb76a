// Package rowstep is optim's Rule.Update for the kernels impl/step and
// impl/fused, its element-wise loops run by impl/internal/vec's vector
// primitives (pure Go under the purego tag or EMBGRAD_PUREGO). It gives
// Rule.Update's bits: each primitive's reference loop is Update's loop,
// operation for operation, and the tests compare Update with this
// package's on random and special rows for every optimizer setting.
//
// Row-wise Adagrad's mean square stays a scalar loop: the contract sums
// the squares in ascending j, one rounding per add, so its order is fixed.
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
	case adam:
		vec.Adam(w, m1[:len(w)], m2[:len(w)], g, p.StepSize, p.OneMinusBeta1, p.OneMinusBeta2, p.Eps)
	}
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
