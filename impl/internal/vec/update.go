package vec

import "math"

// The optimizer-update primitives: the element-wise loops of optim's
// Rule.Update, one function per loop, each with its pure-Go reference
// (always compiled; the tests compare every path with it bit for bit). The
// kernels impl/step and impl/fused call them through impl/internal/rowstep,
// whose tests pin them to Rule.Update itself.
//
// Every product is rounded to float32 before the next operation (no FMA),
// and the square root is correctly rounded on every path.

// SubScaled subtracts s times src from dst (SGD without weight decay):
//
//	for i := range dst {
//		dst[i] = dst[i] - float32(s*src[i])
//	}
//
// dst and src must have the same length; SubScaled panics otherwise.
func SubScaled(dst, src []float32, s float32) {
	if len(dst) != len(src) {
		panic("vec: SubScaled: length mismatch")
	}
	active.subScaled(dst, src, s)
}

// SGDDecay is SGD with weight decay on one row:
//
//	for j := range w {
//		d := g[j] + float32(wd*w[j])
//		w[j] = w[j] - float32(lr*d)
//	}
//
// w and g must have the same length; SGDDecay panics otherwise.
func SGDDecay(w, g []float32, lr, wd float32) {
	if len(w) != len(g) {
		panic("vec: SGDDecay: length mismatch")
	}
	active.sgdDecay(w, g, lr, wd)
}

// ScaleSub is row-wise Adagrad's weight update:
//
//	for j := range w {
//		w[j] = float32(c*w[j]) - float32(g[j]*m)
//	}
//
// w and g must have the same length; ScaleSub panics otherwise.
func ScaleSub(w, g []float32, c, m float32) {
	if len(w) != len(g) {
		panic("vec: ScaleSub: length mismatch")
	}
	active.scaleSub(w, g, c, m)
}

// Adam is lazy Adam's update of one row (ss the negated step size, oma and
// omb 1−β1 and 1−β2):
//
//	for j := range w {
//		x := g[j]
//		mj := m1[j] + float32((x-m1[j])*oma)
//		vj := m2[j] + float32((float32(x*x)-m2[j])*omb)
//		m1[j], m2[j] = mj, vj
//		w[j] = w[j] + float32(ss*float32(mj/(sqrt(vj)+eps)))
//	}
//
// with sqrt correctly rounded. All four slices must have the same length;
// Adam panics otherwise.
func Adam(w, m1, m2, g []float32, ss, oma, omb, eps float32) {
	if len(m1) != len(w) || len(m2) != len(w) || len(g) != len(w) {
		panic("vec: Adam: length mismatch")
	}
	active.adam(w, m1, m2, g, ss, oma, omb, eps)
}

func subScaledGeneric(dst, src []float32, s float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = dst[i] - float32(s*x)
	}
}

func sgdDecayGeneric(w, g []float32, lr, wd float32) {
	g = g[:len(w)]
	for j, x := range g {
		d := x + float32(wd*w[j])
		w[j] = w[j] - float32(lr*d)
	}
}

func scaleSubGeneric(w, g []float32, c, m float32) {
	g = g[:len(w)]
	for j, x := range g {
		w[j] = float32(c*w[j]) - float32(x*m)
	}
}

func adamGeneric(w, m1, m2, g []float32, ss, oma, omb, eps float32) {
	m1, m2, g = m1[:len(w)], m2[:len(w)], g[:len(w)]
	for j, x := range g {
		mu := float32((x - m1[j]) * oma)
		mj := m1[j] + mu
		m1[j] = mj
		vu := float32((float32(x*x) - m2[j]) * omb)
		vj := m2[j] + vu
		m2[j] = vj
		w[j] = w[j] + float32(ss*float32(mj/(sqrt32(vj)+eps)))
	}
}

// sqrt32 is the correctly rounded float32 square root: float64 has more than
// 2·24+2 bits, so rounding the float64 root again is exact.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
